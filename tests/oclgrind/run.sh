#!/usr/bin/env bash
# Runs one test program on Oclgrind, the OpenCL device simulator (Debian's
# `oclgrind`): work-groups, __local memory and barriers as a GPU has them, so
# that the GPU forms of the kernels (chosen by device type; Oclgrind's device
# is a GPU) meet the checks PoCL's CPU device cannot make.
#
#   run.sh PROGRAM [ARGS...]
#
# The program runs under `oclgrind --data-races --check-api`: the wrapper
# preloads Oclgrind's OpenCL runtime, so the program sees Oclgrind's one
# device and nothing else (no ICD file is installed by Debian, and none is
# needed; the rest of the test suite never sees Oclgrind). Out-of-bounds
# accesses to a buffer are always checked. The test fails when the program
# fails, or when Oclgrind reports anything (a data race, an invalid read or
# write, barrier divergence, an API error): the test programs write nothing to
# standard error themselves, so Oclgrind's reports are all that comes there.
#
# Oclgrind's --uninitialized plugin is not used: Oclgrind 21.10 (Debian 12)
# stops at LLVM's `freeze` instruction under it and then reports reads of
# uninitialised values that are not there.
#
# Exit 77 (skip) where oclgrind is not installed.
set -u
if ! command -v oclgrind > /dev/null 2>&1; then
  echo "SKIP: oclgrind is not installed (Debian package oclgrind)"
  exit 77
fi
log=$(mktemp "${TMPDIR:-/tmp}/clcnn-oclgrind.XXXXXX")
trap 'rm -f "$log"' EXIT
oclgrind --data-races --check-api "$@" 2> "$log"
rc=$?
if [ -s "$log" ]; then
  echo "---- Oclgrind reported (standard error of the program):"
  head -c 20000 "$log"
  echo "---- end of Oclgrind's report"
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
