#!/usr/bin/env bash
# Installs what clcnn needs to build and test on Debian 12 (bookworm) or
# later: the toolchain and libraries from Debian (with clang and its
# sanitizer and libFuzzer runtimes for the fuzz suite: libclang-rt-dev is
# only a recommendation of clang, which apt skips here), and the Python
# packages that the tests and benchmarks use (never the library itself) from
# PyPI.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential meson ninja-build pkg-config \
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo libclblast-dev \
  check libprotobuf-c-dev protobuf-c-compiler libonnx-dev nettle-dev \
  libopenblas-dev libdnnl-dev libstb-dev python3 python3-pip oclgrind \
  gimp libgimp2.0-dev clang libclang-rt-dev
# onnx 1.22 is the last release whose wheel ships the backend node test data.
PY_PKGS="onnx==1.22.0 onnxruntime numpy"
if ! python3 -m pip install -q $PY_PKGS 2>/dev/null; then
  # Debian's own python3 refuses system-wide pip installs (PEP 668).
  python3 -m pip install -q --break-system-packages $PY_PKGS
fi
