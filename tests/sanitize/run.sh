#!/usr/bin/env bash
# The sanitizer suite: builds clcnn again with AddressSanitizer and
# UndefinedBehaviorSanitizer (warnings as errors) in BUILD_DIR and runs the
# unit, operator and mixed-graph tests there, with LeakSanitizer on and every
# UBSan report fatal. No leak is suppressed: the OpenCL driver's allocations
# are reachable at exit. Skips (77) where the compiler has no sanitizers.
#   run.sh SOURCE_ROOT BUILD_DIR
set -euo pipefail
src=$1 out=$2
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int main(void) { return 0; }\n' >"$probe/t.c"
if ! ${CC:-cc} -fsanitize=address,undefined "$probe/t.c" -o "$probe/t" 2>/dev/null || ! "$probe/t"; then
  echo "SKIP: ${CC:-cc} cannot build and run with -fsanitize=address,undefined"
  exit 77
fi
if [ ! -f "$out/build.ninja" ]; then
  meson setup "$out" "$src" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true \
    -Dsanitize_suite=false >"$probe/setup.log" 2>&1 || { cat "$probe/setup.log"; exit 1; }
fi
ninja -C "$out" >"$probe/build.log" 2>&1 || { tail -50 "$probe/build.log"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Every test but `install` (an application built without the sanitizers
# cannot load a sanitized library) and the slow whole-model suites.
tests=$(meson test -C "$out" --list --no-rebuild 2>/dev/null |
        sed -n 's/^clcnn:\(unit\|ops\|graphs\) \/ //p' | grep -vx install || true)
if [ -z "$tests" ]; then
  echo "no tests found in $out"
  exit 1
fi
# shellcheck disable=SC2086
if meson test -C "$out" --no-rebuild --print-errorlogs $tests; then exit 0; fi
# LeakSanitizer's own tracer sometimes crashes while it stops the threads of
# the OpenCL driver at exit ("LeakSanitizer has encountered a fatal error",
# no leak reported). Such a test, and only such a test, runs once more; a
# leak, an ASan or UBSan report, or a failed check is never retried.
retry=$(python3 - "$out/meson-logs/testlog.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t.get("result") in ("OK", "SKIP"):
        continue
    err = (t.get("stderr") or "") + (t.get("stdout") or "")
    if ("LeakSanitizer has encountered a fatal error" in err and "ERROR: LeakSanitizer" not in err
            and "ERROR: AddressSanitizer" not in err and "runtime error:" not in err
            and "Failures: 0, Errors: 0" in err):
        print(t["name"].split(" / ")[-1])
    else:
        print("!")
PY
)
if [ -z "$retry" ] || printf '%s\n' "$retry" | grep -qx '!'; then exit 1; fi
echo "LeakSanitizer's tracer crashed in: $retry; running it once more"
# shellcheck disable=SC2086
meson test -C "$out" --no-rebuild --print-errorlogs $retry
