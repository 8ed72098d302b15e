#!/usr/bin/env bash
# Low-precision model tests: tools/make_lowp.py writes a small CNN as float16
# (float16 inputs and outputs, and float32 ones with Casts) and quantized by
# onnxruntime's quantize_static (QDQ, per-channel int8 and per-tensor uint8),
# with onnxruntime's outputs as references, once per build directory
# (regenerated when the script changes; about 3 s). Then every model runs on
# DEVICE and each output is compared with onnxruntime's:
#   float16: max|clcnn - onnxruntime| <= 2e-3 * max|onnxruntime| (clcnn
#            computes in float32 and rounds once; two units of a half)
#   bfloat16 storage (bfloat16 weights, input and output through Casts):
#            1e-2 (the output is rounded to bfloat16: 2^-8 a unit)
#   QDQ:     max|clcnn - onnxruntime| <= 2e-2 * max|onnxruntime|, against
#            onnxruntime with its graph optimisations off, which computes
#            the Q/DQ pairs as ONNX defines them (as clcnn does; with them on
#            its fused integer kernels requantize their own way): a quantum
#            of the output is about range / 255, and on a device a sum
#            rounded differently may flip a rounding upstream and move it
#            by one or two
#   run_lowp.sh SOURCE_ROOT OUT_DIR NODE_TESTS DEVICE
set -euo pipefail
src=$1 out=$2 runner=$3 device=$4
if ! python3 -c 'import onnx, onnxruntime, onnxruntime.quantization, numpy' 2>/dev/null; then
  echo "SKIP: the low-precision model tests need python3 with onnx, onnxruntime and numpy"
  exit 77
fi
mkdir -p "$out"
stamp=$(sha1sum <"$src/tools/make_lowp.py" | cut -d' ' -f1)
(
  flock 9
  if [ "$(cat "$out/.complete" 2>/dev/null)" != "$stamp" ]; then
    rm -f "$out/.complete"
    rm -rf "$out/fp16" "$out/bf16" "$out/qdq"
    python3 "$src/tools/make_lowp.py" --out "$out"
    echo "$stamp" >"$out/.complete"
  fi
) 9>"$out/.lock"
status=0
"$runner" --models 2e-3 --verbose --device "$device" "$out/fp16" || status=1
"$runner" --models 1e-2 --verbose --device "$device" "$out/bf16" || status=1
"$runner" --models 2e-2 --verbose --device "$device" "$out/qdq" || status=1
exit $status
