#!/usr/bin/env python3
"""Regenerates the small fixtures that tests/cli/test_cli.sh uses (checked in,
so that the test needs no Python): run from anywhere with onnx and numpy."""
import os
import struct
import zlib

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h

here = os.path.dirname(os.path.abspath(__file__))


def save(model, name):
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(here, name))


# names.onnx: Relu on a symbolic NCHW input, outputs whose names cannot be file
# names as they stand ("out/put:0" -> out_put_0.pb, "a b" -> a_b.pb).
g = h.make_graph(
    [h.make_node("Relu", ["x"], ["out/put:0"], name="relu0"),
     h.make_node("Sigmoid", ["x"], ["a b"], name="sigmoid0")],
    "names",
    [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, "H", "W"])],
    [h.make_tensor_value_info("out/put:0", T.FLOAT, ["N", 3, "H", "W"]),
     h.make_tensor_value_info("a b", T.FLOAT, ["N", 3, "H", "W"])])
save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), "names.onnx")

# unsupported.onnx: three problems that `clcnn info` must list at once.
g = h.make_graph(
    [h.make_node("Relu", ["x"], ["y"], name="r1"),
     h.make_node("FooBar", ["y"], ["z"], name="foo"),
     h.make_node("Fused", ["z"], ["w"], name="ms", domain="com.example"),
     h.make_node("Conv", ["w", "W"], ["v"], name="conv_bad", auto_pad="WEIRD")],
    "unsupported",
    [h.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])],
    [h.make_tensor_value_info("v", T.FLOAT, None)],
    [h.make_tensor("W", T.FLOAT, [3, 3, 1, 1], np.ones(9, dtype=np.float32))])
m = h.make_model(g, opset_imports=[h.make_opsetid("", 13), h.make_opsetid("com.example", 1)])
onnx.save(m, os.path.join(here, "unsupported.onnx"))  # not checker-valid on purpose

rng = np.random.default_rng(0)
np.save(os.path.join(here, "x.npy"), rng.standard_normal((2, 3, 5, 7)).astype(np.float32))
np.save(os.path.join(here, "fortran.npy"),
        np.asfortranarray(rng.standard_normal((2, 3, 5, 7)).astype(np.float32)))

# tiny.png: 11x7 RGB.
img = rng.integers(0, 256, (7, 11, 3), dtype=np.uint8)
raw = b"".join(b"\x00" + img[y].tobytes() for y in range(img.shape[0]))


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)


with open(os.path.join(here, "tiny.png"), "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 11, 7, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

# minus_one.onnx: open dimensions written as dim_value -1 (PaddlePaddle's
# exporter does; onnxruntime reads them as open): Relu on [-1, 3, -1, -1].
x = h.make_tensor_value_info("x", T.FLOAT, [1, 3, 1, 1])
for d in (0, 2, 3):
    x.type.tensor_type.shape.dim[d].dim_value = -1
g = h.make_graph([h.make_node("Relu", ["x"], ["y"], name="relu0")], "minus_one", [x],
                 [h.make_tensor_value_info("y", T.FLOAT, None)])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]),
          os.path.join(here, "minus_one.onnx"))  # -1 is not checker-valid

# rgba.onnx: a 4-channel (RGBA) image model with two outputs: "rgba" (the
# input, through Relu) and "alpha" (its fourth channel, by Slice).
g = h.make_graph(
    [h.make_node("Relu", ["x"], ["rgba"], name="relu0"),
     h.make_node("Slice", ["x", "s0", "s1", "axis"], ["alpha"], name="slice0")],
    "rgba",
    [h.make_tensor_value_info("x", T.FLOAT, [1, 4, "H", "W"])],
    [h.make_tensor_value_info("rgba", T.FLOAT, [1, 4, "H", "W"]),
     h.make_tensor_value_info("alpha", T.FLOAT, [1, 1, "H", "W"])],
    [h.make_tensor("s0", T.INT64, [1], [3]), h.make_tensor("s1", T.INT64, [1], [4]),
     h.make_tensor("axis", T.INT64, [1], [1])])
save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), "rgba.onnx")

# tiny_rgba.png: 11x7 RGBA, alpha rising by row from 0 (row 0) to 255 (row 6).
img = np.random.default_rng(1).integers(0, 256, (7, 11, 4), dtype=np.uint8)
img[:, :, 3] = np.round(np.arange(7) * 255 / 6).astype(np.uint8)[:, None]
raw = b"".join(b"\x00" + img[y].tobytes() for y in range(img.shape[0]))
with open(os.path.join(here, "tiny_rgba.png"), "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 11, 7, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
