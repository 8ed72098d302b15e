#!/usr/bin/env python3
"""Low-precision models for the model tests: a small CNN (Conv+Relu, MaxPool,
Conv+Relu, a residual Add, GlobalAveragePool, Flatten, Gemm) with seeded
weights, in the forms real deployments ship it, and onnxruntime's outputs on
each form as the reference (for the quantized forms, onnxruntime without its
graph optimisations: the Q/DQ pairs computed as ONNX defines them).

    OUT/fp16/cnn_fp16/           float16 weights, inputs, outputs and values
                                 (what onnxconverter-common's float16 tool
                                 writes with keep_io_types=False)
    OUT/fp16/cnn_fp16_io32/      the same with float32 inputs and outputs and a
                                 Cast at each (keep_io_types=True)
    OUT/bf16/cnn_bf16_storage/   bfloat16 weights, input and output, each
                                 through a Cast to or from float32, which the
                                 operators compute in (how bfloat16 checkpoints
                                 are exported for runtimes whose kernels are
                                 float32; onnxruntime's CPU kernels are)
    OUT/qdq/cnn_qdq_per_channel/ quantized by onnxruntime.quantization's
                                 quantize_static, QDQ format, int8 activations,
                                 per-channel int8 weights
    OUT/qdq/cnn_qdq_per_tensor/  the same with uint8 activations and
                                 per-tensor weights
    OUT/qdq/cnn_qdq_float8/      the same with float8e4m3fn activations and
                                 weights (opset 19, 'distribution'
                                 calibration, which float8 needs)

(onnxruntime's QOperator format is not written: it uses its own com.microsoft
operators, QLinearAdd, QGemm, QLinearGlobalAveragePool, besides QLinearConv;
ONNX's node tests cover QLinearConv and QLinearMatMul.)

Each directory holds model.onnx and test_data_set_0/{input_0,output_0}.pb
(the ONNX backend-test layout that tests/conformance/node_tests.c --models
reads). The float16 converter is written here (onnxconverter-common is not
a dependency): initializers and every float type of the graph become
float16, as that tool does for a model whose operators all have float16
kernels.

Uses onnx, onnxruntime and numpy only. About 3 seconds.
"""

import argparse
import logging
import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

SEED = 2024
OPSET = 17
SHAPE = (1, 3, 32, 32)


def build_cnn(rng):
    inits = []

    def w(name, *shape, scale=1.0):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        a = (rng.standard_normal(shape) * scale * np.sqrt(2.0 / fan_in)).astype(np.float32)
        inits.append(numpy_helper.from_array(a, name))
        return name

    def b(name, n):
        inits.append(numpy_helper.from_array(
            (rng.standard_normal(n) * 0.1).astype(np.float32), name))
        return name

    nodes = [
        helper.make_node("Conv", ["input", w("c1.w", 16, 3, 3, 3), b("c1.b", 16)], ["c1"],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", w("c2.w", 16, 16, 3, 3), b("c2.b", 16)], ["c2"],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Conv", ["r2", w("c3.w", 16, 16, 3, 3, scale=0.5), b("c3.b", 16)],
                         ["c3"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c3", "p1"], ["s3"]),
        helper.make_node("Relu", ["s3"], ["r3"]),
        helper.make_node("Conv", ["r3", w("c4.w", 32, 16, 3, 3), b("c4.b", 32)], ["c4"],
                         pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c4"], ["r4"]),
        helper.make_node("GlobalAveragePool", ["r4"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", w("fc.w", 10, 32), b("fc.b", 10)], ["logits"],
                         transB=1),
    ]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(SHAPE))],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def to_float16(model, keep_io_types):
    """Every float32 tensor of the graph becomes float16."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT:
            a = numpy_helper.to_array(t).astype(np.float16)
            g.initializer[i].CopyFrom(numpy_helper.from_array(a, t.name))
    del g.value_info[:]
    if keep_io_types:
        # input (float32) -> Cast -> the float16 graph -> Cast -> output (float32)
        for vi in g.input:
            for n in g.node:
                n.input[:] = [vi.name + "_fp16" if x == vi.name else x for x in n.input]
            g.node.insert(0, helper.make_node("Cast", [vi.name], [vi.name + "_fp16"],
                                              to=TensorProto.FLOAT16))
        for vi in g.output:
            for n in g.node:
                n.output[:] = [vi.name + "_fp16" if x == vi.name else x for x in n.output]
            g.node.append(helper.make_node("Cast", [vi.name + "_fp16"], [vi.name],
                                           to=TensorProto.FLOAT))
    else:
        for vi in list(g.input) + list(g.output):
            vi.type.tensor_type.elem_type = TensorProto.FLOAT16
    onnx.checker.check_model(m)
    return m


def to_bf16_storage(model):
    """Every float32 initializer, the input and the output stored as
    bfloat16, each through a Cast, the operators left in float32."""
    import ml_dtypes
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    casts = []
    for i, t in enumerate(g.initializer):
        if t.data_type != TensorProto.FLOAT:
            continue
        name = t.name
        a = numpy_helper.to_array(t).astype(ml_dtypes.bfloat16)
        g.initializer[i].CopyFrom(numpy_helper.from_array(a, name + "_bf16"))
        casts.append(helper.make_node("Cast", [name + "_bf16"], [name], to=TensorProto.FLOAT))
    for vi in g.input:
        for n in g.node:
            n.input[:] = [vi.name + "_f32" if x == vi.name else x for x in n.input]
        casts.append(helper.make_node("Cast", [vi.name], [vi.name + "_f32"], to=TensorProto.FLOAT))
        vi.type.tensor_type.elem_type = TensorProto.BFLOAT16
    for vi in g.output:
        for n in g.node:
            n.output[:] = [vi.name + "_f32" if x == vi.name else x for x in n.output]
        g.node.append(helper.make_node("Cast", [vi.name + "_f32"], [vi.name],
                                       to=TensorProto.BFLOAT16))
        vi.type.tensor_type.elem_type = TensorProto.BFLOAT16
    for c in reversed(casts):
        g.node.insert(0, c)
    onnx.checker.check_model(m)
    return m


class Calibration:
    """quantize_static's calibration data: a few seeded inputs."""

    def __init__(self, rng, count=8):
        self.data = [{"input": rng.standard_normal(SHAPE).astype(np.float32)}
                     for _ in range(count)]

    def get_next(self):
        return self.data.pop() if self.data else None

    def rewind(self):
        pass


def quantize(model, rng, fmt, per_channel, activation_type, weight_type=None):
    from onnxruntime.quantization import CalibrationMethod, QuantType, quantize_static
    weight_type = weight_type or QuantType.QInt8
    extra = {}
    if weight_type == QuantType.QFLOAT8E4M3FN:
        extra["calibrate_method"] = CalibrationMethod.Distribution
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "f32.onnx"), os.path.join(tmp, "q.onnx")
        onnx.save(model, src)
        quantize_static(src, dst, Calibration(rng), quant_format=fmt, per_channel=per_channel,
                        activation_type=activation_type, weight_type=weight_type, **extra)
        return onnx.load(dst)


def float_io(model):
    """The model with a float32 input and output around its bfloat16 ones
    (Casts): onnxruntime's Python API takes and gives no bfloat16 arrays."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    vi, vo = g.input[0], g.output[0]
    g.node.insert(0, helper.make_node("Cast", [vi.name + "_as_f32"], [vi.name],
                                      to=TensorProto.BFLOAT16))
    vi.name += "_as_f32"
    vi.type.tensor_type.elem_type = TensorProto.FLOAT
    g.node.append(helper.make_node("Cast", [vo.name], [vo.name + "_as_f32"], to=TensorProto.FLOAT))
    vo.name += "_as_f32"
    vo.type.tensor_type.elem_type = TensorProto.FLOAT
    return m


def write_case(out, name, model, x):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if name.startswith("cnn_qdq"):
        # ONNX's semantics of a QDQ model: each QuantizeLinear / DequantizeLinear
        # pair and the float operators between them, which onnxruntime runs as
        # they are with its graph optimisations off. With them on it fuses the
        # pairs into integer kernels that requantize their own way (4% of the
        # output's scale apart on the per-channel model, onnxruntime 1.32).
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    bf16 = model.graph.input[0].type.tensor_type.elem_type == TensorProto.BFLOAT16
    sess = ort.InferenceSession((float_io(model) if bf16 else model).SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    feed = x.astype(np.float16) if inp.type == "tensor(float16)" else x
    y = sess.run(None, {inp.name: feed})[0]
    if bf16:  # both exact in bfloat16: the Casts rounded them
        import ml_dtypes
        inp = model.graph.input[0]
        feed = x.astype(ml_dtypes.bfloat16)
        y = y.astype(ml_dtypes.bfloat16)
    with open(os.path.join(d, "test_data_set_0", "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(feed, inp.name).SerializeToString())
    with open(os.path.join(d, "test_data_set_0", "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(y, (model.graph.output[0] if bf16 else
                                            sess.get_outputs()[0]).name).SerializeToString())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    logging.getLogger().setLevel(logging.ERROR)  # quantize_static's advice on pre-processing
    from onnxruntime.quantization import QuantFormat, QuantType
    rng = np.random.default_rng(SEED)
    model = build_cnn(rng)
    x = np.random.default_rng(SEED + 1).standard_normal(SHAPE).astype(np.float32)
    fp16 = os.path.join(args.out, "fp16")
    write_case(fp16, "cnn_fp16", to_float16(model, False), x)
    write_case(fp16, "cnn_fp16_io32", to_float16(model, True), x)
    write_case(os.path.join(args.out, "bf16"), "cnn_bf16_storage", to_bf16_storage(model), x)
    qdq = os.path.join(args.out, "qdq")
    write_case(qdq, "cnn_qdq_per_channel",
               quantize(model, np.random.default_rng(SEED + 2), QuantFormat.QDQ, True,
                        QuantType.QInt8), x)
    write_case(qdq, "cnn_qdq_per_tensor",
               quantize(model, np.random.default_rng(SEED + 2), QuantFormat.QDQ, False,
                        QuantType.QUInt8), x)
    write_case(qdq, "cnn_qdq_float8",
               quantize(model, np.random.default_rng(SEED + 2), QuantFormat.QDQ, False,
                        QuantType.QFLOAT8E4M3FN, QuantType.QFLOAT8E4M3FN), x)


if __name__ == "__main__":
    main()
