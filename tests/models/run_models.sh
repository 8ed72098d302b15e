#!/usr/bin/env bash
# Model tests: generates the model zoo (tools/zoo.py, seeded weights) and its
# onnxruntime reference outputs (tools/reference.py) once per build directory,
# then runs every zoo model on DEVICE and compares with the reference:
# max|clcnn - onnxruntime| <= 1e-3 * max|onnxruntime| per output (logits).
#   run_models.sh SOURCE_ROOT ZOO_DIR NODE_TESTS DEVICE
set -euo pipefail
src=$1 zoo=$2 runner=$3 device=$4
if ! python3 -c 'import onnx, onnxruntime, numpy' 2>/dev/null; then
  echo "SKIP: the model tests need python3 with onnx, onnxruntime and numpy (tools/install-deps.sh)"
  exit 77
fi
mkdir -p "$zoo"
(
  flock 9
  if [ ! -f "$zoo/.complete" ]; then
    python3 "$src/tools/zoo.py" --out "$zoo"
    python3 "$src/tools/reference.py" "$zoo"
    touch "$zoo/.complete"
  fi
) 9>"$zoo/.lock"
exec "$runner" --models 1e-3 --device "$device" "$zoo"
