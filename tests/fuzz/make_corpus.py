#!/usr/bin/env python3
"""Writes the generated part of the fuzzers' seed corpus (tests/fuzz/corpus/):
small ONNX models, one or a few per operator family, for fuzz_model, and
.npy/.pb/image inputs for fuzz_cli_inputs. Checked in, so that the fuzz test
needs no Python; rerun after adding a case. Run from anywhere with onnx and
numpy."""
import os
import struct
import zlib

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(12)


def out_dir(target):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    return d


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def init(name, a):
    return nh.from_array(np.asarray(a), name)


def model(name, nodes, inputs, outputs, inits=(), opset=17):
    g = h.make_graph(nodes, name, inputs, outputs, list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    # not checker-valid: outputs leave their shapes to clcnn to infer
    with open(os.path.join(out_dir("fuzz_model"), "gen_" + name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())


def vi(name, dims, t=T.FLOAT):
    return h.make_tensor_value_info(name, t, dims)


X = vi("x", ["N", 2, "H", "W"])
Y = vi("y", None)

# conv
model("conv", [h.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 0, 1, 2], strides=[2, 1],
                           dilations=[1, 2], group=2)],
      [X], [Y], [init("w", f32(4, 1, 3, 2)), init("b", f32(4))])
model("convt", [h.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2],
                            output_padding=[1, 0], pads=[0, 1, 0, 0])],
      [X], [Y], [init("w", f32(2, 3, 3, 3))])
model("conv_relu_bn", [h.make_node("Conv", ["x", "w"], ["c"], auto_pad="SAME_UPPER"),
                       h.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"]),
                       h.make_node("Relu", ["n"], ["y"])],
      [X], [Y], [init("w", f32(3, 2, 3, 3)), init("s", f32(3)), init("bb", f32(3)),
                 init("m", f32(3)), init("v", np.abs(f32(3)) + 0.5)])
# gemm
model("gemm", [h.make_node("Flatten", ["x"], ["f"]),
               h.make_node("Gemm", ["f", "w", "c"], ["y"], transB=1, alpha=0.5, beta=2.0)],
      [vi("x", [3, 2, 2, 2])], [Y], [init("w", f32(4, 8)), init("c", f32(4))])
model("matmul", [h.make_node("MatMul", ["x", "w"], ["y"])],
      [vi("x", [2, "M", 3])], [Y], [init("w", f32(3, 5))])
# pool
model("pools", [h.make_node("MaxPool", ["x"], ["a"], kernel_shape=[3, 2], pads=[1, 1, 1, 0],
                            strides=[2, 1], ceil_mode=1),
                h.make_node("AveragePool", ["a"], ["b"], kernel_shape=[2, 2],
                            count_include_pad=1, pads=[1, 1, 0, 0]),
                h.make_node("LpPool", ["b"], ["c"], kernel_shape=[2, 1], p=3),
                h.make_node("GlobalAveragePool", ["c"], ["d"]),
                h.make_node("GlobalMaxPool", ["x"], ["e"]),
                h.make_node("Add", ["d", "e"], ["y"])],
      [X], [Y])
# norm
model("norms", [h.make_node("InstanceNormalization", ["x", "s", "b"], ["a"]),
                h.make_node("LRN", ["a"], ["c"], size=3),
                h.make_node("LayerNormalization", ["c", "ls", "lb"], ["y"], axis=-1)],
      [vi("x", [1, 2, 3, 4])], [Y],
      [init("s", f32(2)), init("b", f32(2)), init("ls", f32(4)), init("lb", f32(4))])
model("groupnorm", [h.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=2)],
      [vi("x", [1, 4, 3, 3])], [Y], [init("s", f32(4)), init("b", f32(4))], opset=21)
# unary
ops = ["Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
       "Softplus", "Mish", "Erf", "Exp", "Neg", "Abs", "Floor", "Ceil", "Round", "Sign",
       "Sin", "Cos", "Softsign", "Celu", "ThresholdedRelu", "Shrink", "Sqrt", "Log",
       "Reciprocal"]
nodes, prev = [], "x"
for i, op in enumerate(ops):
    nodes.append(h.make_node(op, [prev], ["u%d" % i]))
    prev = "u%d" % i
nodes.append(h.make_node("Clip", [prev, "lo", "hi"], ["y"]))
model("unary", nodes, [X], [Y], [init("lo", np.float32(-1)), init("hi", np.float32(2))])
model("gelu", [h.make_node("Gelu", ["x"], ["y"], approximate="tanh")], [X], [Y], opset=20)
# binary, with broadcasting
nodes = [h.make_node("Add", ["x", "c"], ["a"]), h.make_node("Sub", ["a", "x"], ["b"]),
         h.make_node("Mul", ["b", "c"], ["c2"]), h.make_node("Div", ["c2", "c"], ["d"]),
         h.make_node("Pow", ["d", "two"], ["e"]), h.make_node("PRelu", ["e", "slope"], ["f"]),
         h.make_node("Max", ["f", "x", "c"], ["g"]), h.make_node("Min", ["g", "x"], ["i"]),
         h.make_node("Sum", ["i", "x", "x"], ["j"]), h.make_node("Mean", ["j", "c"], ["k"]),
         h.make_node("Greater", ["k", "x"], ["gt"]), h.make_node("Less", ["k", "x"], ["lt"]),
         h.make_node("Equal", ["k", "x"], ["eq"]), h.make_node("Or", ["gt", "eq"], ["o"]),
         h.make_node("Xor", ["o", "lt"], ["xo"]), h.make_node("And", ["xo", "gt"], ["an"]),
         h.make_node("Not", ["an"], ["nt"]),
         h.make_node("GreaterOrEqual", ["k", "x"], ["ge"]),
         h.make_node("LessOrEqual", ["k", "x"], ["le"]), h.make_node("And", ["ge", "le"], ["gl"]),
         h.make_node("Or", ["gl", "nt"], ["cond"]),
         h.make_node("Where", ["cond", "k", "x"], ["y"])]
model("binary", nodes, [X], [Y],
      [init("c", f32(2, 1, 1)), init("two", np.float32(2)), init("slope", f32(2, 1, 1))])
model("mod_int", [h.make_node("Mod", ["x", "m"], ["y"], fmod=0)],
      [vi("x", [2, 3], T.INT64)], [Y], [init("m", np.array([3, -2, 5], dtype=np.int64))])
# softmax, reduce
model("softmax", [h.make_node("Softmax", ["x"], ["a"], axis=1),
                  h.make_node("LogSoftmax", ["a"], ["y"], axis=-1)], [X], [Y])
rops = ["ReduceMean", "ReduceMax", "ReduceSum", "ReduceMin", "ReduceProd", "ReduceL1",
        "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"]
nodes = [h.make_node(op, ["x", "axes"] if op == "ReduceSum" else ["x"], ["r%d" % i],
                     keepdims=1, **({} if op == "ReduceSum" else {"axes": [1, 3]}))
         for i, op in enumerate(rops)]
nodes += [h.make_node("ArgMax", ["x"], ["am"], axis=2, keepdims=0),
          h.make_node("ArgMin", ["x"], ["an"], axis=-1, select_last_index=1)]
model("reduce", nodes, [X], [vi("r%d" % i, None) for i in range(len(rops))] +
      [vi("am", None, T.INT64), vi("an", None, T.INT64)],
      [init("axes", np.array([1, 3], dtype=np.int64))], opset=13)
# resize
model("resize", [h.make_node("Resize", ["x", "", "sc"], ["a"], mode="linear",
                             coordinate_transformation_mode="half_pixel"),
                 h.make_node("Resize", ["a", "", "", "sz"], ["y"], mode="nearest",
                             nearest_mode="floor", coordinate_transformation_mode="asymmetric")],
      [X], [Y], [init("sc", np.array([1, 1, 2, 1.5], dtype=np.float32)),
                 init("sz", np.array([1, 2, 3, 7], dtype=np.int64))])
model("resize_cubic", [h.make_node("Resize", ["x", "", "sc"], ["y"], mode="cubic")],
      [X], [Y], [init("sc", np.array([1, 1, 0.6, 1.7], dtype=np.float32))])
# layout
model("layout", [h.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
                 h.make_node("Split", ["t", "sp"], ["s1", "s2"], axis=2),
                 h.make_node("Concat", ["s2", "s1"], ["c"], axis=2),
                 h.make_node("Slice", ["c", "st", "en", "ax", "stp"], ["sl"]),
                 h.make_node("Pad", ["sl", "pads", "pv"], ["p"], mode="reflect"),
                 h.make_node("Tile", ["p", "reps"], ["ti"]),
                 h.make_node("Gather", ["ti", "idx"], ["y"], axis=1)],
      [vi("x", [1, 3, 4, 5])], [Y],
      [init("sp", np.array([1, 2], dtype=np.int64)), init("st", np.array([0, -1], dtype=np.int64)),
       init("en", np.array([5, -10], dtype=np.int64)), init("ax", np.array([1, 3], dtype=np.int64)),
       init("stp", np.array([2, -1], dtype=np.int64)),
       init("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64)),
       init("pv", np.float32(0)), init("reps", np.array([1, 2, 1, 2], dtype=np.int64)),
       init("idx", np.array([[0, -1], [2, 1]], dtype=np.int64))])
model("depth_space", [h.make_node("SpaceToDepth", ["x"], ["a"], blocksize=2),
                      h.make_node("DepthToSpace", ["a"], ["y"], blocksize=2, mode="CRD")],
      [vi("x", [1, 2, 4, 6])], [Y])
model("expand", [h.make_node("Expand", ["x", "sh"], ["y"])], [vi("x", [3, 1])], [Y],
      [init("sh", np.array([2, 1, 4], dtype=np.int64))])
# shape: a PyTorch-style shape subgraph folded at load time, and the rest
model("shape", [h.make_node("Shape", ["x"], ["s"]),
                h.make_node("Gather", ["s", "zero"], ["n"], axis=0),
                h.make_node("Unsqueeze", ["n", "ax0"], ["nu"]),
                h.make_node("Concat", ["nu", "m1"], ["ns"], axis=0),
                h.make_node("Reshape", ["x", "ns"], ["r"]),
                h.make_node("Size", ["x"], ["sz"]),
                h.make_node("Cast", ["sz"], ["szf"], to=T.FLOAT),
                h.make_node("Mul", ["r", "szf"], ["rm"]),
                h.make_node("Unsqueeze", ["rm", "ax0"], ["ru"]),
                h.make_node("Squeeze", ["ru", "ax0"], ["rs"]),
                h.make_node("Dropout", ["rs"], ["dr"]),
                h.make_node("Identity", ["dr"], ["y"])],
      [X], [Y], [init("zero", np.array(0, dtype=np.int64)),
                 init("ax0", np.array([0], dtype=np.int64)),
                 init("m1", np.array([-1], dtype=np.int64))])
model("constants", [h.make_node("Constant", [], ["c"], value=init("cv", f32(2, 3))),
                    h.make_node("ConstantOfShape", ["shp"], ["z"],
                                value=init("zv", np.array([1.5], dtype=np.float32))),
                    h.make_node("Range", ["r0", "r1", "r2"], ["rg"]),
                    h.make_node("CastLike", ["rg", "c"], ["rgf"]),
                    h.make_node("Add", ["c", "z"], ["a"]),
                    h.make_node("Add", ["a", "rgf"], ["b"]),
                    h.make_node("Add", ["b", "x"], ["y"])],
      [vi("x", [2, 3])], [Y], [init("shp", np.array([2, 3], dtype=np.int64)),
                               init("r0", np.float32(0)), init("r1", np.float32(3)),
                               init("r2", np.float32(1))])
model("upsample", [h.make_node("Upsample", ["x", "sc"], ["y"], mode="nearest")],
      [X], [Y], [init("sc", np.array([1, 1, 2, 2], dtype=np.float32))], opset=9)
model("int_types", [h.make_node("Cast", ["x"], ["a"], to=T.INT32),
                    h.make_node("Cast", ["a"], ["b"], to=T.INT8),
                    h.make_node("Cast", ["b"], ["c"], to=T.UINT8),
                    h.make_node("Cast", ["c"], ["d"], to=T.FLOAT16),
                    h.make_node("Cast", ["d"], ["e"], to=T.DOUBLE),
                    h.make_node("Cast", ["e"], ["y"], to=T.BOOL)],
      [X], [vi("y", None, T.BOOL)])

# --------------------------------------------------- fuzz_cli_inputs
# Each file starts with the byte that chooses the model input and options
# (see fuzz_cli_inputs.c: bits 0-2 dtype f32 f64 i64 i32 i8 u8 bool f16, 8
# grey, 16 fixed 6x5, 32 --size 3x4, 64 --mean/--std, 128 --shape 1x3x2x2).
d = out_dir("fuzz_cli_inputs")


def cli(name, cfg, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([cfg]) + data)


def npy_bytes(a):
    import io
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


cli("f32.npy", 0, npy_bytes(f32(1, 3, 2, 2)))
cli("f32_shape.npy", 128, npy_bytes(f32(1, 3, 2, 2)))
cli("i64_to_f32.npy", 0, npy_bytes(np.arange(6, dtype=np.int64).reshape(2, 3)))
cli("u8_to_i32.npy", 3, npy_bytes(np.arange(5, dtype=np.uint8)))
cli("bool_to_f64.npy", 1, npy_bytes(np.array([True, False])))
cli("f64_big_endian.npy", 0, npy_bytes(np.arange(3, dtype=">f8")))
cli("fortran.npy", 0, npy_bytes(np.asfortranarray(f32(2, 3))))
cli("scalar.npy", 0, npy_bytes(np.float32(3)))
# Finding 1 (fuzz_cli_inputs): 300 into int8 went through an undefined
# double-to-int8 conversion; now an error.
cli("i32_to_i8.npy", 4, npy_bytes(np.array([1, -2, 300], dtype=np.int32)))
v2 = bytearray(npy_bytes(f32(2)))  # the same array as a version 2.0 header
hl = v2[8] | v2[9] << 8
cli("v2.npy", 0, bytes(v2[:6]) + b"\x02\x00" + struct.pack("<I", hl) + bytes(v2[10:]))
cli("f32.pb", 0, nh.from_array(f32(1, 3, 2, 2), "x").SerializeToString())
cli("i64_to_f32.pb", 0, nh.from_array(np.arange(4, dtype=np.int64), "i").SerializeToString())
cli("f32_to_i64.pb", 2, nh.from_array(np.float32([1.5, -2]), "f").SerializeToString())
t = h.make_tensor("fd", T.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0])  # float_data, not raw_data
cli("float_data.pb", 0, t.SerializeToString())
cli("i32_data.pb", 3, h.make_tensor("id", T.INT32, [3], [1, -2, 3]).SerializeToString())
cli("f16.pb", 7, nh.from_array(np.float16([1, 2.5]), "h").SerializeToString())


def png(w, hgt, channels, pixels, depth=8):
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    row = w * channels * depth // 8
    px = bytes(pixels)
    raw = b"".join(b"\0" + px[y * row:(y + 1) * row] for y in range(hgt))

    def chunk(tag, body):
        return (struct.pack(">I", len(body)) + tag + body +
                struct.pack(">I", zlib.crc32(tag + body) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, hgt, depth, ctype, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def bmp(w, hgt, pixels):  # 24-bit, bottom-up rows padded to 4 bytes
    row = (3 * w + 3) & ~3
    body = b"".join(bytes(pixels[y * 3 * w:(y + 1) * 3 * w]) + b"\0" * (row - 3 * w)
                    for y in range(hgt))
    return (b"BM" + struct.pack("<IHHI", 54 + len(body), 0, 0, 54) +
            struct.pack("<IiiHHIIiiII", 40, w, hgt, 1, 24, 0, len(body), 2835, 2835, 0, 0) + body)


cli("rgb.png", 0, png(5, 3, 3, range(45)))
cli("rgb_fixed_mean.png", 16 | 64, png(5, 3, 3, range(45)))
cli("gray.png", 8, png(4, 4, 1, range(0, 256, 16)))
cli("gray_size.png", 8 | 32, png(4, 4, 1, range(0, 256, 16)))
cli("rgba.png", 0, png(3, 2, 4, range(0, 240, 10)))
cli("rgb16.png", 0, png(2, 2, 3, range(24), depth=16))


def jpeg_grey8x8():
    """A baseline JPEG of one grey 8x8 block: one-code Huffman tables (DC
    category 0, AC end-of-block), so the scan is the two bits 00."""
    def seg(marker, body):
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body
    dqt = seg(0xDB, b"\x00" + b"\x01" * 64)
    sof = seg(0xC0, b"\x08" + struct.pack(">HH", 8, 8) + b"\x01\x01\x11\x00")
    one_code = bytes([1] + [0] * 15) + b"\x00"
    dht = seg(0xC4, b"\x00" + one_code + b"\x10" + one_code)
    sos = seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return b"\xff\xd8" + dqt + sof + dht + sos + b"\x3f" + b"\xff\xd9"


cli("grey.jpg", 8, jpeg_grey8x8())
cli("grey_to_rgb_size.jpg", 32, jpeg_grey8x8())
cli("rgb.bmp", 0, bmp(3, 2, range(0, 180, 10)))
cli("gray_to_rgb.bmp", 8, bmp(2, 2, range(12)))

# --------------------------------------------------- fuzz_cache_entry
# Entries as host/program_cache.c writes them: magic, version 1, header size
# 88, key, binary length, SHA-256 of the binary, the binary.
import hashlib

d = out_dir("fuzz_cache_entry")


def entry(name, key, binary, length=None, digest=None):
    hdr = (b"CLCNNPRG" + struct.pack("<II", 1, 88) + key +
           struct.pack("<Q", len(binary) if length is None else length) +
           (hashlib.sha256(binary).digest() if digest is None else digest))
    with open(os.path.join(d, name), "wb") as f:
        f.write(hdr + binary)


fuzz_key = hashlib.sha256(b"clcnn fuzz").digest()  # the fixed key of fuzz_cache_entry.c
other_key = hashlib.sha256(b"another program").digest()
entry("good_fixed_key", fuzz_key, b"\x7fELF" + bytes(range(60)))
entry("good_other_key", other_key, b"x")
entry("bad_length", fuzz_key, b"abcdef", length=5)
entry("bad_checksum", other_key, b"abcdef", digest=b"\0" * 32)
with open(os.path.join(d, "truncated_header"), "wb") as f:
    f.write(b"CLCNNPRG" + struct.pack("<II", 1, 88) + fuzz_key[:20])
