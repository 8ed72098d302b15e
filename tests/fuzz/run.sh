#!/usr/bin/env bash
# The fuzz suite: builds clcnn's libFuzzer targets (tests/fuzz/*.c) with
# clang, AddressSanitizer and UndefinedBehaviorSanitizer in BUILD_DIR, then
# runs each on its stored corpus (tests/fuzz/corpus/TARGET/) and then for a
# fixed number of mutated inputs from a fixed seed: the same inputs on every
# run, so the suite is a regression test that cannot fail at random (longer,
# random runs are for finding bugs: docs/testing.md). SECONDS_PER_TARGET
# caps the time. Any crash, leak, timeout, out-of-memory or sanitizer report
# fails the suite; the input that caused it is kept in BUILD_DIR/artifacts/.
# Skips (77) where clang cannot link libFuzzer.
#   run.sh SOURCE_ROOT BUILD_DIR [SECONDS_PER_TARGET]
# FUZZ_SECONDS overrides the time cap per target (default 60), FUZZ_RUNS the
# number of inputs (default: per target, about 10 s each here), FUZZ_SEED the
# seed (default 1).
set -euo pipefail
src=$1 out=$2
secs=${3:-${FUZZ_SECONDS:-60}}
seed=${FUZZ_SEED:-1}
clang=${FUZZ_CC:-clang}
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/t.c"
if ! command -v "$clang" >/dev/null ||
   ! "$clang" -fsanitize=fuzzer,address,undefined "$probe/t.c" -o "$probe/t" 2>/dev/null ||
   ! "$probe/t" -runs=1 >/dev/null 2>&1; then
  echo "SKIP: $clang cannot build and run a libFuzzer target with -fsanitize=fuzzer,address,undefined"
  echo "      (Debian: clang and libclang-rt-dev)"
  exit 77
fi
if [ ! -f "$out/build.ninja" ]; then
  CC=$clang meson setup "$out" "$src" -Dfuzz=true -Dtests=false -Dsanitize_suite=false \
    -Db_sanitize=address,undefined -Db_lundef=false -Ddefault_library=static -Dwerror=true \
    >"$probe/setup.log" 2>&1 || { cat "$probe/setup.log"; exit 1; }
fi
targets=(fuzz_model fuzz_cli_inputs)
[ -f "$src/host/program_cache.c" ] && grep -q "fuzz_cache_entry" "$out/build.ninja" && targets+=(fuzz_cache_entry)
ninja -C "$out" "${targets[@]/#/tests/fuzz/}" >"$probe/build.log" 2>&1 ||
  { tail -50 "$probe/build.log"; exit 1; }
# Leaks are checked after every input; UBSan reports are fatal.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$out/artifacts"
fail=0
for t in "${targets[@]}"; do
  corpus="$src/tests/fuzz/corpus/$t"
  # New inputs go to a scratch directory; the stored corpus is only read.
  work="$out/corpus-$t"
  rm -rf "$work"
  mkdir -p "$work"
  dict=()
  [ "$t" = fuzz_model ] && dict=(-dict="$src/tests/fuzz/onnx.dict")
  [ "$t" = fuzz_cli_inputs ] && dict=(-dict="$src/tests/fuzz/cli_inputs.dict")
  case $t in
    fuzz_model) runs=100000 ;;
    fuzz_cli_inputs) runs=60000 ;;
    *) runs=2000000 ;;
  esac
  runs=${FUZZ_RUNS:-$runs}
  echo "== $t: $(ls "$corpus" | wc -l) stored inputs, then $runs inputs from seed $seed (at most ${secs}s)"
  if ! "$out/tests/fuzz/$t" "$work" "$corpus" "${dict[@]}" -seed="$seed" -runs="$runs" \
      -max_total_time="$secs" \
      -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/$t-" >"$out/$t.log" 2>&1; then
    echo "FAIL: $t (log: $out/$t.log)"
    grep -E -A30 '==ERROR|runtime error|ALARM|out-of-memory|deadly signal|SUMMARY' "$out/$t.log" | head -60
    fail=1
  fi
  grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|^Done' \
    "$out/$t.log" | sed "s/^/   /"
done
exit $fail
