#!/usr/bin/env python3
"""Build the small sample CNN used by the README demo.

Writes (relative to the repository root unless --out-dir is given):
    examples/sample_cnn.onnx                       opset 13, < 2 MB, fixed seed
    examples/sample_cnn/test_data_set_0/input_0.pb seeded input, named "input"
    examples/sample_cnn/test_data_set_0/output_0.pb onnxruntime reference
                                                   (only if onnxruntime imports)

Graph: input [1,3,64,64] -> Conv+BN+Relu -> Conv(s2)+BN+Relu -> residual
block (depthwise 3x3 + BN + Relu, pointwise 1x1 + BN, Add, Relu) -> MaxPool
-> Conv+BN+Relu -> GlobalAveragePool -> Flatten -> Gemm -> "logits" [1,10].

Builds with onnx + numpy only (reusing tools/zoo.py's graph builder).
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo  # noqa: E402  (sibling module)

SEED = 20240613
OPSET = 13
SIZE = 64
CLASSES = 10


def build_sample():
    b = zoo.Builder(OPSET, SEED)
    b.set_stats("input", 0.0, 1.0, 3)
    y = b.conv_bn("input", 3, 16, 3, "stem")                    # 16 x 64 x 64
    y = b.conv_bn(y, 16, 32, 3, "down", stride=2)               # 32 x 32 x 32
    r = b.conv_bn(y, 32, 32, 3, "block.dw", groups=32)          # depthwise
    r = b.conv_bn(r, 32, 32, 1, "block.pw", act=None)           # pointwise
    y = b.relu(b.add(y, r, "block"), "block")                   # residual
    y = b.maxpool(y, 2, 2, 0, "pool")                           # 32 x 16 x 16
    y = b.conv_bn(y, 32, 64, 3, "head")                         # 64 x 16 x 16
    y = b.gap_flatten(y, "gap")
    y = b.gemm(y, 64, CLASSES, "fc")
    model = b.model("sample_cnn", "input", [1, 3, SIZE, SIZE], "logits", y, [1, CLASSES])
    inp = np.random.default_rng(SEED + 1).standard_normal((1, 3, SIZE, SIZE), dtype=np.float32)
    return model, inp


def main(argv=None):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description="Build examples/sample_cnn.onnx and its test data.")
    ap.add_argument("--out-dir", default=os.path.join(root, "examples"),
                    help="directory receiving sample_cnn.onnx and sample_cnn/ (default: examples/)")
    a = ap.parse_args(argv)

    import onnx
    from onnx import numpy_helper

    model, inp = build_sample()
    zoo.validate(model)
    model_path = os.path.join(a.out_dir, "sample_cnn.onnx")
    data_dir = os.path.join(a.out_dir, "sample_cnn", "test_data_set_0")
    os.makedirs(data_dir, exist_ok=True)
    onnx.save(model, model_path)
    with open(os.path.join(data_dir, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(inp, "input").SerializeToString())
    print(f"wrote {model_path}: {zoo.count_params(model):,d} params, "
          f"{os.path.getsize(model_path):,d} bytes, ops: {' '.join(zoo.op_types(model))}")

    try:
        import reference  # needs onnxruntime
    except ImportError as e:
        print(f"onnxruntime not available ({e}); output_0.pb not written")
        return 0
    outs = reference.run_case(model_path, data_dir)
    for name, arr in outs.items():
        print(f"wrote {data_dir}/output_0.pb: {name} {reference.describe(arr)}")
        print("  logits: " + " ".join(f"{v:.4f}" for v in arr.ravel()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
