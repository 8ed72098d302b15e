#!/usr/bin/env bash
# Model tests: generates the model zoo (tools/zoo.py, seeded weights: every
# architecture at opsets 13 and 17, the two-head P-Net detector, and the
# <name>_multi_op17 variants whose intermediate values are extra graph
# outputs) and its onnxruntime reference outputs (tools/reference.py) once per
# build directory, regenerated when either script changes, then runs every zoo
# model on DEVICE and compares every graph output with its reference:
# max|clcnn - onnxruntime| <= 1e-3 * max|onnxruntime| per output (RTOL in
# the environment changes the 1e-3); EXTRA arguments go to NODE_TESTS
# (--precision fp16, --filter _op17).
#   run_models.sh SOURCE_ROOT ZOO_DIR NODE_TESTS DEVICE [EXTRA...]
set -euo pipefail
src=$1 zoo=$2 runner=$3 device=$4
shift 4
if ! python3 -c 'import onnx, onnxruntime, numpy' 2>/dev/null; then
  echo "SKIP: the model tests need python3 with onnx, onnxruntime and numpy (tools/install-deps.sh)"
  exit 77
fi
mkdir -p "$zoo"
stamp=$(cat "$src/tools/zoo.py" "$src/tools/reference.py" | sha1sum | cut -d' ' -f1)
(
  flock 9
  if [ "$(cat "$zoo/.complete" 2>/dev/null)" != "$stamp" ]; then
    rm -f "$zoo/.complete"
    find "$zoo" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
    python3 "$src/tools/zoo.py" --out "$zoo"
    python3 "$src/tools/reference.py" "$zoo"
    echo "$stamp" >"$zoo/.complete"
  fi
) 9>"$zoo/.lock"
exec "$runner" --models "${RTOL:-1e-3}" --device "$device" "$@" "$zoo"
