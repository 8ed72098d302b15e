#!/usr/bin/env python3
"""Cast to the float8 and float4 types over many values, through `clcnn run`,
against references clcnn did not write.

    cast_f8_reference.py CLCNN [--device D]

For each type, 'saturate' value and (float8e8m0) 'round_mode', a model
Cast(x -> type) -> Cast(-> float32) runs on about 2,000 float32 values
(ONNX's table values: the largest finite ones, half way past them, the
smallest subnormals, 0, -0, infinities, NaN; and random values over 2^-20 to
2^20), and every output must equal the reference exactly (the sign of zero
included; any NaN matches any NaN):
  float8e4m3fn/fnuz, float8e5m2/fnuz, float4e2m1: ONNX's reference
      implementation (onnx.reference, which rounds with ml_dtypes);
  float8e8m0: onnxruntime, which follows the table of ONNX's Cast for values
      out of range (0, negative values, infinity: the nearest end with
      saturate, NaN without it), where ONNX's reference keeps the exponent
      bits instead (ONNX's node tests hold no such values).
Exit 0 when all match, 1 otherwise, 77 when onnx or numpy is missing (the
float8e8m0 part is skipped without onnxruntime).
"""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

TYPES = {"float8e4m3fn": 17, "float8e4m3fnuz": 18, "float8e5m2": 19, "float8e5m2fnuz": 20,
         "float4e2m1": 23, "float8e8m0": 24}
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 448, 464, 480, 240, 248, 256, 57344, 61440,
           65536, 6, 7, 0.25, 0.75, 2.5, 2**-9, 2**-10, 2**-11, 2**-16, 2**-17, 2**-18,
           2**-127, 2**-126, 2**127, 3e38, 1e-45, 1.5, -2, 1e6, -1e6]


def model(to, saturate, mode, n):
    attrs = {"to": to, "saturate": saturate}
    if mode:
        attrs["round_mode"] = mode
    g = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["y"], **attrs),
         helper.make_node("Cast", ["y"], ["z"], to=onnx.TensorProto.FLOAT)], "cast",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [n])],
        [helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [n])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 25)])
    m.ir_version = 11
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("clcnn")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
        print("note: no onnxruntime: float8e8m0 is not checked")
    rng = np.random.default_rng(11)
    x = np.concatenate([np.array(SPECIAL, np.float32),
                        (rng.standard_normal(2000) *
                         np.exp2(rng.integers(-20, 20, 2000))).astype(np.float32)])
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        xin = os.path.join(tmp, "x.pb")
        with open(xin, "wb") as f:
            f.write(numpy_helper.from_array(x, "x").SerializeToString())
        for name, to in TYPES.items():
            for sat in (1, 0):
                for mode in (["up", "nearest", "down"] if to == 24 else [None]):
                    m = model(to, sat, mode, len(x))
                    if to == 24:
                        if ort is None:
                            continue
                        want = ort.InferenceSession(m.SerializeToString(),
                                                    providers=["CPUExecutionProvider"]).run(
                                                        None, {"x": x})[0]
                    else:
                        want = ReferenceEvaluator(m).run(None, {"x": x})[0]
                    path = os.path.join(tmp, "m.onnx")
                    onnx.save(m, path)
                    out = os.path.join(tmp, "out")
                    r = subprocess.run([args.clcnn, "run", path, "--device", args.device,
                                        "--input", f"x={xin}", "--output-dir", out],
                                       capture_output=True, text=True)
                    what = f"{name} saturate={sat}" + (f" round_mode={mode}" if mode else "")
                    if r.returncode != 0:
                        print(f"FAIL {what}: clcnn run: {r.stderr.strip()}")
                        failed += 1
                        continue
                    got = numpy_helper.to_array(onnx.load_tensor(os.path.join(out, "z.pb")))
                    ok = (np.isnan(got) & np.isnan(want)) | (
                        (got == want) & (np.signbit(got) == np.signbit(want)))
                    if ok.all():
                        print(f"pass {what}: {len(x)} values")
                    else:
                        bad = np.nonzero(~ok)[0]
                        i = bad[0]
                        print(f"FAIL {what}: {len(bad)} of {len(x)} differ, first x={x[i]!r}: "
                              f"{got[i]!r}, expected {want[i]!r}")
                        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
