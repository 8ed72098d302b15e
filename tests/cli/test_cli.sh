#!/bin/sh
# End-to-end tests of the clcnn command-line tool.
#
#     sh tests/cli/test_cli.sh BUILD/tools/clcnn SOURCE_ROOT
#
# Runs info/run/bench on examples/sample_cnn.onnx, on the fixtures beside this
# script, and on hostile files (truncated model, random bytes, empty file, a
# directory), checking exit codes, one-line errors and the files written.
# Everything runs on the CPU backend (--device cpu), so no OpenCL is needed.
# Exit: 0 all passed, 1 a check failed, 77 the test cannot run here.
# The fixtures come from tests/cli/make_fixtures.py.

CLCNN=$1
SRC=$2
if [ -z "$CLCNN" ] || [ -z "$SRC" ]; then
  echo "usage: $0 CLCNN_BINARY SOURCE_ROOT" >&2
  exit 77
fi
if [ ! -x "$CLCNN" ]; then
  echo "SKIP: $CLCNN is not an executable" >&2
  exit 77
fi
FIX=$SRC/tests/cli
SAMPLE=$SRC/examples/sample_cnn.onnx
SAMPLE_DATA=$SRC/examples/sample_cnn/test_data_set_0
for f in "$SAMPLE" "$SAMPLE_DATA/input_0.pb" "$FIX/names.onnx" "$FIX/unsupported.onnx" \
         "$FIX/x.npy" "$FIX/fortran.npy" "$FIX/tiny.png"; do
  if [ ! -f "$f" ]; then
    echo "SKIP: $f is missing" >&2
    exit 77
  fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/clcnn_cli.XXXXXX") || exit 77
trap 'rm -rf "$T"' EXIT INT TERM
# Don't let the environment pick an OpenCL device.
unset CLCNN_DEVICE

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() {
  FAIL=$((FAIL + 1))
  echo "FAIL: $*"
  if [ -s "$T/err" ]; then sed 's/^/    stderr: /' "$T/err" | head -5; fi
}

# run_rc WANT DESCRIPTION -- ARGS...: runs clcnn ARGS, stdout to $T/out,
# stderr to $T/err; checks the exit status (and, for errors, that stderr is
# exactly one line and that it did not crash).
run_rc() {
  want=$1
  what=$2
  shift 3
  "$CLCNN" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ $rc -ge 126 ]; then
    bad "$what: crashed or killed (exit $rc)"
    return 1
  fi
  if [ "$want" = "fail" ]; then
    if [ $rc -eq 0 ]; then
      bad "$what: exit 0, expected an error"
      return 1
    fi
    lines=$(wc -l <"$T/err")
    if [ "$lines" -ne 1 ]; then
      bad "$what: $lines lines on stderr, expected one"
      return 1
    fi
    if ! grep -q '^clcnn: ' "$T/err"; then
      bad "$what: stderr does not start with 'clcnn: '"
      return 1
    fi
  elif [ $rc -ne "$want" ]; then
    bad "$what: exit $rc, expected $want"
    return 1
  fi
  ok
  return 0
}

expect_out() { # PATTERN DESCRIPTION: stdout of the last command matches
  if grep -q -- "$1" "$T/out"; then ok; else bad "$2: stdout lacks '$1'"; fi
}

expect_file() {
  if [ -s "$1" ]; then ok; else bad "$2: $1 was not written"; fi
}

HAVE_PY=no
if command -v python3 >/dev/null 2>&1 &&
   python3 -c 'import onnx, numpy' >/dev/null 2>&1; then
  HAVE_PY=yes
fi

# ---------------------------------------------------------------- basics
run_rc 0 "--version" -- --version && expect_out '^clcnn [0-9]' "--version"
run_rc 0 "help" -- help && expect_out 'usage: clcnn' "help"
run_rc 0 "--help" -- --help && expect_out 'bench MODEL' "--help"
run_rc 0 "no arguments" -- && expect_out 'usage: clcnn' "no arguments"
run_rc fail "unknown command" -- frobnicate
run_rc fail "info without a model" -- info
run_rc fail "run with an unknown option" -- run "$SAMPLE" --frobnicate
run_rc fail "run --runs 0" -- run "$SAMPLE" --runs 0
run_rc fail "run --runs garbage" -- run "$SAMPLE" --runs 3x
run_rc fail "bench --warmup missing value" -- bench "$SAMPLE" --warmup

# ---------------------------------------------------------- sample model
if run_rc 0 "info sample" -- info "$SAMPLE" --device cpu; then
  expect_out 'Conv' "info sample"
  expect_out '^parameters' "info sample"
  expect_out '^FLOPs  *[0-9]' "info sample"
  expect_out 'problems    none' "info sample"
  expect_out 'input  *float32  \[1, 3, 64, 64\]' "info sample"
fi
if run_rc 0 "run sample" -- run "$SAMPLE" --device cpu --input "$SAMPLE_DATA/input_0.pb" \
     --output-dir "$T/sample_out" --runs 3 --profile --profile-json "$T/profile.json"; then
  expect_file "$T/sample_out/logits.pb" "run sample"
  expect_file "$T/profile.json" "run sample --profile-json"
  expect_out 'top-5' "run sample"
  expect_out 'median of 3 runs' "run sample"
  expect_out '^total: ' "run sample --profile"
  # The roofline columns: every Conv row is placed against the CPU's peak.
  expect_out '^ *[0-9]*  /stem.conv/Conv .* \(compute\|memory\) *[0-9]*% fp32$' "run --profile: bound and roof"
  if [ $HAVE_PY = yes ] && [ -s "$T/sample_out/logits.pb" ]; then
    if python3 - "$T/sample_out/logits.pb" "$SAMPLE_DATA/output_0.pb" "$T/profile.json" <<'EOF'
import json, sys
import numpy as np
from onnx import TensorProto, numpy_helper
def load(p):
    t = TensorProto()
    with open(p, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)
name, got = load(sys.argv[1])
_, want = load(sys.argv[2])
assert name == "logits", name
assert got.shape == want.shape, (got.shape, want.shape)
err = float(np.max(np.abs(got - want)))
assert err <= 1e-4 * max(1.0, float(np.max(np.abs(want)))), f"max abs error {err}"
prof = json.load(open(sys.argv[3]))
assert prof["nodes"] and all("ms" in n and "op" in n for n in prof["nodes"]), prof
EOF
    then ok; else bad "run sample: output differs from output_0.pb or profile JSON is malformed"; fi
  fi
fi
if run_rc 0 "run sample without --input" -- run "$SAMPLE" --device cpu; then
  expect_out 'pseudo-random' "run sample without --input"
fi
if run_rc 0 "bench sample" -- bench "$SAMPLE" --device cpu --runs 3 --warmup 1 \
     --json "$T/bench.json"; then
  expect_file "$T/bench.json" "bench sample --json"
  for k in model device batch create_cold_ms cold_first_run_ms create_warm_ms first_run_ms \
           median_ms min_ms programs_compiled programs_loaded \
           max_ms throughput host_peak_bytes device_bytes runs; do
    if grep -q "\"$k\": " "$T/bench.json"; then ok; else bad "bench --json lacks $k"; fi
  done
  if [ $HAVE_PY = yes ]; then
    if python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert isinstance(r, list) and r[0]["runs"] == 3 and r[0]["median_ms"] > 0' "$T/bench.json"; then
      ok; else bad "bench --json is not an array of result objects"; fi
  fi
fi
run_rc 0 "bench --device all" -- bench "$SAMPLE" --device all --runs 2 --warmup 0
run_rc fail "bench sample --batch 2 (batch fixed to 1)" -- bench "$SAMPLE" --device cpu --runs 1 --batch 2

# ------------------------------------------------------- hostile models
head -c 3000 "$SAMPLE" >"$T/truncated.onnx"
# Deterministic "random" bytes (awk's generator with a fixed seed; no NULs).
awk 'BEGIN { srand(7); for (i = 0; i < 4096; i++) printf "%c", 1 + int(rand() * 255) }' \
  >"$T/random.onnx"
: >"$T/empty.onnx"
mkdir "$T/adir"
for m in truncated.onnx random.onnx empty.onnx adir missing.onnx; do
  run_rc fail "info $m" -- info "$T/$m"
  run_rc fail "run $m" -- run "$T/$m" --device cpu
  run_rc fail "bench $m" -- bench "$T/$m" --device cpu --runs 1 --warmup 0
done

# ---------------------------------------------- unsupported operators
if run_rc fail "info unsupported.onnx" -- info "$FIX/unsupported.onnx"; then
  expect_out "node 'foo'" "info unsupported.onnx"
  expect_out "node 'ms'" "info unsupported.onnx"
  expect_out "node 'conv_bad'" "info unsupported.onnx"
fi
run_rc fail "run unsupported.onnx" -- run "$FIX/unsupported.onnx" --device cpu

# ------------------------------------ inputs, output names, symbolic dims
N=$FIX/names.onnx
if run_rc 0 "info names.onnx" -- info "$N" --device cpu; then
  expect_out 'x  *float32  \[N, 3, H, W\]' "info names.onnx (symbolic dims)"
fi
if run_rc 0 "run names.onnx --input .npy" -- run "$N" --device cpu --input "$FIX/x.npy" \
     --output-dir "$T/names_out"; then
  expect_file "$T/names_out/out_put_0.pb" "sanitized output name 'out/put:0'"
  expect_file "$T/names_out/a_b.pb" "sanitized output name 'a b'"
  expect_out '2x3x5x7' "run names.onnx shape from the .npy"
fi
run_rc 0 "run names.onnx --input x=FILE" -- run "$N" --device cpu --input "x=$FIX/x.npy"
run_rc 0 "run names.onnx --shape" -- run "$N" --device cpu --shape x=2x3x4x4 &&
  expect_out '2x3x4x4' "run names.onnx --shape"
run_rc fail "run --input for an unknown name" -- run "$FIX/unsupported.onnx" --input "nope=$FIX/x.npy"
# Open dimensions written as -1 (PaddlePaddle's exporter) load as open ones.
run_rc 0 "info of a model with -1 dims" -- info "$FIX/minus_one.onnx" &&
  expect_out 'at shapes x=1x3x1x1' "info of -1 dims: open dims are 1"
run_rc 0 "run a model with -1 dims at a shape" -- run "$FIX/minus_one.onnx" --device cpu \
  --shape x=2x3x5x4 && expect_out '2x3x5x4' "run of -1 dims at a shape"
run_rc 0 "info --shape" -- info "$N" --shape x=2x3x4x4 && expect_out 'at shapes x=2x3x4x4' "info --shape"
run_rc 2 "info --shape of an unknown input" -- info "$N" --shape nope=1x2
run_rc fail "run --shape that contradicts the file" -- run "$N" --device cpu --input "$FIX/x.npy" --shape 1x3x4x4
run_rc fail "run Fortran-order .npy" -- run "$N" --device cpu --input "$FIX/fortran.npy"
run_rc fail "run missing input file" -- run "$N" --device cpu --input "$T/nothing.npy"
head -c 100 "$FIX/x.npy" >"$T/truncated.npy"
run_rc fail "run truncated .npy" -- run "$N" --device cpu --input "$T/truncated.npy"
run_rc fail "run random bytes as input" -- run "$N" --device cpu --input "$T/random.onnx"
run_rc fail "run a directory as input" -- run "$N" --device cpu --input "$T/adir"
if grep -q '^#define CLCNN_HAVE_STB 1' "$(dirname "$CLCNN")/../clcnn_config.h" 2>/dev/null ||
   ! [ -f "$(dirname "$CLCNN")/../clcnn_config.h" ]; then
  if run_rc 0 "run names.onnx --input PNG" -- run "$N" --device cpu --input "$FIX/tiny.png" \
       --size 9x5 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225; then
    expect_out '1x3x5x9' "run names.onnx --input PNG --size"
  fi
  run_rc 0 "run names.onnx --input PNG (native size)" -- run "$N" --device cpu --input "$FIX/tiny.png" &&
    expect_out '1x3x7x11' "run names.onnx --input PNG native size"
  head -c 60 "$FIX/tiny.png" >"$T/broken.png"
  run_rc fail "run truncated PNG" -- run "$N" --device cpu --input "$T/broken.png"
  # A 54-byte BMP header that claims 20000x20000 pixels and has none: refused
  # from its header, before anything is decoded or allocated.
  printf 'BM\066\000\000\000\000\000\000\000\066\000\000\000\050\000\000\000\040\116\000\000\040\116\000\000\001\000\030\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >"$T/huge.bmp"
  run_rc fail "run BMP claiming 20000x20000 pixels" -- run "$N" --device cpu --input "$T/huge.bmp" &&
    { grep -q '20000x20000: too large' "$T/err" || bad "huge BMP: $(cat "$T/err")"; }
  # A valid 8x8 grey baseline JPEG (its decoded value is 128/255), then a
  # 13-byte JPEG whose Huffman table has more than 256 codes: stb_image
  # before 2.28 writes past its tables; refused before stb sees it.
  tail -c +2 "$SRC/tests/fuzz/corpus/fuzz_cli_inputs/regress_jpeg_huffman_over_256_codes.jpg" \
    >"$T/huffman.jpg"
  # A 92-byte PNG whose IDAT chunk claims 2 GiB: stb_image would allocate it.
  tail -c +2 "$SRC/tests/fuzz/corpus/fuzz_cli_inputs/regress_png_idat_claims_2gib.png" >"$T/idat.png"
  run_rc fail "run PNG with a chunk past the end of the file" -- run "$N" --device cpu \
    --input "$T/idat.png" &&
    { grep -q 'PNG chunk runs past the end' "$T/err" || bad "IDAT PNG: $(cat "$T/err")"; }
  tail -c +2 "$SRC/tests/fuzz/corpus/fuzz_cli_inputs/grey.jpg" >"$T/grey.jpg"
  run_rc 0 "run names.onnx --input JPEG" -- run "$N" --device cpu --input "$T/grey.jpg" &&
    expect_out 'out/put:0  float32 1x3x8x8  min 0.501961' "run names.onnx --input JPEG"
  run_rc fail "run JPEG with a Huffman table of more than 256 codes" -- run "$N" --device cpu \
    --input "$T/huffman.jpg" &&
    { grep -q 'more than 256 codes' "$T/err" || bad "Huffman JPEG: $(cat "$T/err")"; }
  # A JPEG whose scan uses a Huffman table it never defines: Debian's
  # stb_image decodes it with a table it never filled and, depending on what
  # the heap held, failed its own assertion and aborted (fuzzer, in CI).
  tail -c +2 "$SRC/tests/fuzz/corpus/fuzz_cli_inputs/regress_jpeg_scan_uses_undefined_huffman_table.jpg" \
    >"$T/undef.jpg"
  for how in "--input" "--tile 8x8 --input"; do
    # shellcheck disable=SC2086
    run_rc fail "run $how JPEG whose scan uses an undefined Huffman table" -- run "$N" \
      --device cpu $how "$T/undef.jpg" &&
      { grep -q 'Huffman table that the file does not define' "$T/err" ||
        bad "undefined-table JPEG ($how): $(cat "$T/err")"; }
  done
fi
run_rc fail "run --output-dir that is a file" -- run "$N" --device cpu --output-dir "$FIX/x.npy"
run_rc fail "run --std 0" -- run "$N" --device cpu --std 0

# clcnn devices lists what the public API (clcnn_devices) gives, the CPU
# backend last, and which device "best" picks.
run_rc 0 "devices" -- devices && expect_out '^  id:              cpu$' "devices: the CPU backend's id" &&
  expect_out '^best: ' "devices: the best device"
run_rc 0 "devices --verbose" -- devices --verbose
# --peak: each device's measured rates (the CPU backend's always; OpenCL ones
# cached in the cache directory, which CLCNN_CACHE_DIR points at here).
CLCNN_CACHE_DIR=$T/peak-cache
export CLCNN_CACHE_DIR
run_rc 0 "devices --peak" -- devices --peak &&
  expect_out '^  peak fp32: *[0-9.]* GFLOP/s$' "devices --peak: a FP32 peak" &&
  expect_out '^  peak bandwidth: *[0-9.]* GB/s' "devices --peak: a bandwidth"
unset CLCNN_CACHE_DIR
run_rc 2 "devices with a bad argument" -- devices --nope

# On an OpenCL device (skipped without one): the schedule and its transfers in
# info and --profile, and verify mode, which must pass on the real kernels and
# name the first node when a kernel computes a wrong answer (a copy of the
# kernels whose Relu adds 0.25).
if "$CLCNN" run "$SAMPLE" --device opencl >/dev/null 2>&1; then
  export CLCNN_CACHE_DIR="$T/cache"
  run_rc 0 "info --device opencl shows the schedule" -- info "$SAMPLE" --device opencl &&
    expect_out 'cpu->opencl    Transfer' "info --device opencl: the input's transfer step"
  run_rc 0 "run --profile lists transfers" -- run "$SAMPLE" --device opencl --profile &&
    expect_out 'Transfer' "run --profile: a Transfer row"
  run_rc 0 "run --verify on the real kernels" -- run "$SAMPLE" --device opencl --verify &&
    expect_out 'device nodes agree with the CPU backend' "run --verify: all agree"
  # Precision: half storage between the device layers, each node's shown;
  # fp16 within 1e-2 of the CPU per node; auto calibrates; a bad name is usage.
  run_rc 0 "info --precision fp16" -- info "$SAMPLE" --device opencl --precision fp16 &&
    expect_out '^precision   fp16: [1-9][0-9]* of [0-9]* device nodes' "info: the precision line" &&
    expect_out '/block.dw.conv/Conv  \[fp16\]' "info: a node in half storage" &&
    expect_out '/stem.conv/Conv  \[fp32>fp16\]' "info: the first layer reads float, writes half"
  run_rc 0 "run --precision fp16 --verify" -- run "$SAMPLE" --device opencl --precision fp16 \
    --verify --verify-tolerance 1e-2 &&
    expect_out 'device nodes agree with the CPU backend' "run --precision fp16: all agree"
  run_rc 0 "run --precision auto" -- run "$SAMPLE" --device opencl --precision auto &&
    expect_out 'top-5' "run --precision auto: an answer"
  if run_rc 2 "run --precision bogus" -- run "$SAMPLE" --precision fp8; then
    grep -q 'is not fp32, fp16 or auto' "$T/err" || bad "run --precision bogus: no reason"
  fi
  # tune: both GEMMs timed per product (CLBlast compiles on PoCL: ~15 s), the
  # choices stored as cache entries; without CLBlast it says so and fails.
  if run_rc 0 "tune sample" -- tune "$SAMPLE" --device opencl --runs 2 ||
     grep -q 'built without CLBlast' "$T/err"; then
    if [ -s "$T/out" ]; then
      expect_out '^after    median of 2 runs' "tune: the run time after"
      n=$(grep -l 'clcnn-gemm \(own\|clblast\)' "$T/cache"/*.bin 2>/dev/null | wc -l)
      [ "$n" -ge 1 ] || bad "tune: no GEMM choice in the cache directory"
    fi
  fi
  mkdir -p "$T/kernels"
  cp "$SRC"/kernels/*.cl "$T/kernels/"
  # Relu is built in (ACT_BODY) where a kernel takes it as a -D option and
  # passed at run time (EPILOGUE_PWL's lower clip) in the convolutions: both
  # break, each by +0.25 on positive values.
  sed -e 's/^#define ACT_BODY(T) return x < ACT_K(T, 0.0f) ? ACT_K(T, 0.0f) : x;$/#define ACT_BODY(T) return x < ACT_K(T, 0.0f) ? ACT_K(T, 0.0f) : x + ACT_K(T, 0.25f);/' \
      -e 's/^    v = v < (T)act_lo ? (T)act_lo : v; /    v = v < (T)act_lo ? (T)act_lo : v + (T)(act_lo == 0.0f ? 0.25f : 0.0f);/' \
    "$SRC/kernels/common.cl" >"$T/kernels/common.cl"
  # Under LeakSanitizer (the sanitize suite) the case is left out: the kernels
  # are new sources, which PoCL compiles cold, and LLVM's allocations of that
  # compile are reported as leaks; the plain cli test runs it.
  case "${ASAN_OPTIONS:-}" in
    *detect_leaks=1*) echo "note: the wrong-Relu --verify case runs in the plain cli test only" ;;
    *)
  if [ "$(diff "$SRC/kernels/common.cl" "$T/kernels/common.cl" | grep -c '^>')" -ne 2 ]; then
    bad "the Relu of kernels/common.cl was not found to break (in both places)"
  else
    CLCNN_KERNEL_DIR="$T/kernels" run_rc fail "run --verify on a wrong Relu kernel" -- \
      run "$SAMPLE" --device opencl --verify &&
      expect_out 'DIFFERS' "run --verify: a node differs" &&
      expect_out "the first is '/stem.conv/Conv' (Conv+Relu)" "run --verify: the first wrong node"
  fi
    ;;
  esac
  unset CLCNN_CACHE_DIR
else
  echo "note: no OpenCL device: the schedule and verify checks are skipped"
fi

# Tiled runs and image outputs (examples/denoise.onnx, upscale2x.onnx and
# noisy.png from tools/make_denoiser.py): the PNG's size and bit depth are read
# from its IHDR chunk.
png_info() { # FILE -> "WIDTH HEIGHT DEPTH"
  set -- $(od -An -tu1 -j16 -N9 "$1")
  echo "$(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 )) $(( ($5 << 24) + ($6 << 16) + ($7 << 8) + $8 )) $9"
}
expect_png() { # FILE "W H DEPTH" DESCRIPTION
  if [ ! -s "$1" ]; then
    bad "$3: $1 was not written"
  elif [ "$(png_info "$1")" = "$2" ]; then
    ok
  else
    bad "$3: $1 is $(png_info "$1") (width height depth), expected $2"
  fi
}
DEN=$SRC/examples/denoise.onnx
UP=$SRC/examples/upscale2x.onnx
NOISY=$SRC/examples/noisy.png
if [ -f "$DEN" ] && [ -f "$UP" ] && [ -f "$NOISY" ] &&
   grep -q '^#define CLCNN_HAVE_STB 1' "$(dirname "$CLCNN")/../clcnn_config.h" 2>/dev/null; then
  run_rc 0 "run --tile --output-image" -- run "$DEN" --device cpu --input "$NOISY" --tile 64x48 \
      --overlap 16 --output-image "$T/den.png" &&
    expect_out 'tiles    64x48, overlap 16, scale x1' "run --tile: the tiling" &&
    expect_png "$T/den.png" "256 192 8" "run --tile --output-image"
  run_rc 0 "run --output-image (whole image)" -- run "$DEN" --device cpu --input "$NOISY" \
      --output-image "$T/den_whole.png" && expect_png "$T/den_whole.png" "256 192 8" "run --output-image"
  run_rc 0 "run --tile x2 --output-depth 16" -- run "$UP" --device cpu --input "$NOISY" \
      --tile 50x40 --output-image "$T/up.png" --output-depth 16 --output-dir "$T/up" &&
    expect_out 'scale x2' "run --tile: the x2 scale found" &&
    expect_out '1x3x384x512' "run --tile x2: the output shape" &&
    expect_png "$T/up.png" "512 384 16" "run --tile --output-depth 16" &&
    expect_file "$T/up/upscaled.pb" "run --tile --output-dir"
  run_rc 0 "run --input a 16-bit PNG --tile" -- run "$DEN" --device cpu --input "$T/up.png" \
      --tile 128x128 --output-image "$T/den16.png" && expect_png "$T/den16.png" "512 384 8" \
      "run on a 16-bit PNG"
  run_rc 0 "run --input a 16-bit PNG (whole image)" -- run "$DEN" --device cpu --input "$T/up.png" &&
    expect_out "1x3x384x512" "run on a 16-bit PNG: its size"
  run_rc 2 "run --tile with --size" -- run "$DEN" --device cpu --input "$NOISY" --tile 64x64 --size 9x9
  run_rc 2 "run --overlap without --tile" -- run "$DEN" --device cpu --input "$NOISY" --overlap 4
  run_rc 2 "run --tile 64" -- run "$DEN" --device cpu --input "$NOISY" --tile 64
  run_rc 2 "run --output-depth 12" -- run "$DEN" --device cpu --input "$NOISY" --output-image "$T/x.png" --output-depth 12
  run_rc fail "run --tile with too much overlap" -- run "$DEN" --device cpu --input "$NOISY" --tile 64x64 --overlap 40
  run_rc fail "run --tile without an image" -- run "$DEN" --device cpu --tile 64x64
  # A 4-channel (RGBA) model (tests/cli/rgba.onnx: Relu, and Slice of the
  # alpha) on an RGBA PNG whose alpha rises from 0 to 255: the whole-image
  # input keeps the alpha, as the tiled one does (the same PNG; the tensors
  # differ by the tiler's blending, 6e-8); an RGB PNG gets an opaque alpha.
  # (The fixture's alpha mean is 892 / 7 / 255.)
  RGBA=$FIX/rgba.onnx
  run_rc 0 "run a 4-channel model on an RGBA PNG" -- run "$RGBA" --device cpu \
      --input "$FIX/tiny_rgba.png" --output-image "$T/rgba_whole.png" --output-dir "$T/rgba_whole" &&
    expect_out 'x  float32 1x4x7x11' "run RGBA: a 4-channel input" &&
    expect_out 'alpha  float32 1x1x7x11  min 0  mean 0.49972  max 1' "run RGBA: the alpha kept" &&
    expect_png "$T/rgba_whole.png" "11 7 8" "run RGBA --output-image"
  run_rc 0 "run a 4-channel model on an RGBA PNG, tiled" -- run "$RGBA" --device cpu \
      --input "$FIX/tiny_rgba.png" --tile 8x8 --overlap 2 --output-image "$T/rgba_tiled.png" &&
    if cmp -s "$T/rgba_whole.png" "$T/rgba_tiled.png"; then ok; else
      bad "run RGBA: the whole-image and the tiled runs differ"; fi
  run_rc 0 "run a 4-channel model on an RGB PNG" -- run "$RGBA" --device cpu \
      --input "$FIX/tiny.png" --output-dir "$T/rgba_rgb" &&
    expect_out 'alpha  float32 1x1x7x11  min 1  mean 1  max 1' "run RGBA on RGB: an opaque alpha"
  run_rc fail "run --output-image of a classifier" -- run "$SAMPLE" --device cpu --output-image "$T/logits.png"
else
  echo "note: no stb or no examples/denoise.onnx: the --tile/--output-image checks are skipped"
fi

echo "$PASS passed, $FAIL failed"
[ $FAIL -eq 0 ] || exit 1
exit 0
