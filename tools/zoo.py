#!/usr/bin/env python3
"""Build a zoo of real CNN architectures as ONNX files with seeded random weights.

The graphs are written by hand with onnx.helper, node by node, in the shape
PyTorch's exporter produces (Conv + BatchNormalization + Relu, Flatten + Gemm
heads, Clip for ReLU6, ...) but without pulling in torch. Weights are random
but initialised so activations stay O(1) through the whole network (He init,
BatchNorm with non-identity statistics, small biases), which keeps the outputs
meaningful for numerical comparison against a reference runtime.

Output layout (the ONNX backend-test layout):
    OUT/<name>_op<N>/model.onnx
    OUT/<name>_op<N>/test_data_set_0/input_0.pb

Besides every architecture at every opset, OUT/<name>_multi_op<N> (opsets
from --multi-opsets, 17 by default) is the same model with intermediate
values exposed as extra graph outputs (see add_outputs and multi_taps): each
of them is also read by later nodes, so a runtime must keep it alive and
unclobbered while still computing the rest of the network.

Only onnx and numpy are used here.
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# A fixed seed per model so every run (and both opsets) gets identical weights.
SEEDS = {
    "resnet18": 1018,
    "resnet50": 1050,
    "mobilenetv2": 1002,
    "squeezenet1_1": 1011,
    "densenet121": 1121,
    "inception": 1100,
    "unet": 1200,
    "style": 1300,
    "pnet": 1400,
    "detect_head": 1500,
    "stn": 1600,
    "sr2x": 1702,
}


class Builder:
    """Accumulates nodes and initializers for one graph.

    Tensor names follow PyTorch's exporter loosely: node "/scope/Op" with
    output "/scope/Op_output_0", parameters "scope.weight" etc.
    """

    def __init__(self, opset, seed):
        self.opset = opset
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []
        self.used = set()
        self.consts = {}
        # Estimated mean and second moment E[x^2] (averaged over channels and
        # pixels) plus channel count of every tensor, propagated analytically
        # as the graph is built. BatchNormalization gets running statistics
        # that roughly match the data it will see (as in a trained net), so
        # activations stay O(1) at any depth instead of compounding the He
        # gain layer after layer; a numpy-only build can't calibrate on data.
        self.mu = {}
        self.m2 = {}
        self.ch = {}

    # ---- naming / bookkeeping -------------------------------------------
    def _unique(self, name):
        base, i = name, 0
        while name in self.used:
            i += 1
            name = f"{base}_{i}"
        self.used.add(name)
        return name

    def param(self, name, arr):
        name = self._unique(name)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def const(self, key, arr):
        """Shared constant initializer (e.g. Clip bounds, Resize scales)."""
        if key not in self.consts:
            self.consts[key] = self.param(key, arr)
        return self.consts[key]

    def op(self, op_type, inputs, scope, n_out=1, **attrs):
        name = self._unique(f"/{scope}/{op_type}" if scope else f"/{op_type}")
        outs = [f"{name}_output_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=name, **attrs))
        # Default: shape-preserving ops keep the statistics of their first input.
        for o in outs:
            self.mu[o] = self.mu.get(inputs[0], 0.0)
            self.m2[o] = self.m2.get(inputs[0], 1.0)
            self.ch[o] = self.ch.get(inputs[0])
        return outs[0] if n_out == 1 else outs

    def set_stats(self, name, mu, m2, ch=None):
        self.mu[name], self.m2[name] = float(mu), float(m2)
        if ch is not None:
            self.ch[name] = ch

    def var(self, x):
        return max(self.m2[x] - self.mu[x] ** 2, 1e-6)

    # ---- random parameters ----------------------------------------------
    def he(self, shape, fan_in):
        # Kaiming-normal (ReLU gain): keeps the second moment constant per layer.
        std = math.sqrt(2.0 / fan_in)
        return (self.rng.standard_normal(shape, dtype=np.float32) * std).astype(np.float32)

    def small_bias(self, n):
        return (self.rng.standard_normal(n, dtype=np.float32) * 0.02).astype(np.float32)

    def affine(self, c):
        """gamma ~ U(0.5, 1.5), beta ~ N(0, 0.1): non-trivial norm affine params."""
        gamma = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        beta = (self.rng.standard_normal(c) * 0.1).astype(np.float32)
        return gamma, beta

    # ---- layers -----------------------------------------------------------
    def conv(self, x, cin, cout, k, scope, stride=1, pad=None, groups=1, bias=False, dilation=1):
        if pad is None:
            pad = dilation * (k - 1) // 2
        w = self.he((cout, cin // groups, k, k), fan_in=(cin // groups) * k * k)
        ins = [x, self.param(f"{scope}.weight", w)]
        if bias:
            ins.append(self.param(f"{scope}.bias", self.small_bias(cout)))
        y = self.op("Conv", ins, scope, kernel_shape=[k, k], strides=[stride, stride],
                    pads=[pad] * 4, dilations=[dilation, dilation], group=groups)
        self.set_stats(y, 0.0, 2.0 * self.m2[x], cout)  # He: E[y^2] = 2 E[x^2]
        return y

    def conv_transpose(self, x, cin, cout, k, stride, pad, out_pad, scope, bias=True):
        # Each output pixel sums roughly cin*k*k/stride^2 taps.
        fan_in = max(1, cin * k * k // (stride * stride))
        w = self.he((cin, cout, k, k), fan_in=fan_in)
        ins = [x, self.param(f"{scope}.weight", w)]
        if bias:
            ins.append(self.param(f"{scope}.bias", self.small_bias(cout)))
        y = self.op("ConvTranspose", ins, scope, kernel_shape=[k, k], strides=[stride, stride],
                    pads=[pad] * 4, output_padding=[out_pad, out_pad])
        self.set_stats(y, 0.0, 2.0 * self.m2[x], cout)
        return y

    def bn(self, x, c, scope):
        """BatchNormalization with non-identity statistics: mean ~ N(0, 0.1),
        var ~ U(0.5, 1.5), both relative to the estimated input scale."""
        gamma, beta = self.affine(c)
        sd = math.sqrt(self.var(x))
        n = self.rng.standard_normal(c)
        mean = (self.mu[x] + 0.1 * sd * n).astype(np.float32)
        u = self.rng.uniform(0.5, 1.5, c)
        var = (u * sd * sd).astype(np.float32)
        ins = [x,
               self.param(f"{scope}.weight", gamma), self.param(f"{scope}.bias", beta),
               self.param(f"{scope}.running_mean", mean), self.param(f"{scope}.running_var", var)]
        y = self.op("BatchNormalization", ins, scope, epsilon=1e-5, momentum=0.9)
        g = gamma.astype(np.float64)
        mean_c = beta - g * 0.1 * n / np.sqrt(u)
        self.set_stats(y, mean_c.mean(), np.mean(g * g / u + mean_c ** 2))
        return y

    def instnorm(self, x, c, scope):
        gamma, beta = self.affine(c)
        ins = [x, self.param(f"{scope}.weight", gamma), self.param(f"{scope}.bias", beta)]
        y = self.op("InstanceNormalization", ins, scope, epsilon=1e-5)
        self._normalized(y, gamma, beta)
        return y

    def _normalized(self, y, gamma, beta):
        g = gamma.astype(np.float64)
        self.set_stats(y, beta.mean(), np.mean(g * g + beta.astype(np.float64) ** 2))

    def _relu_stats(self, y, x):
        # Moments of relu(N(mu, sd^2)); exact for a Gaussian, which matters on
        # residual streams whose mean is far from zero.
        mu, sd = self.mu[x], math.sqrt(self.var(x))
        a = mu / sd
        cdf = 0.5 * (1.0 + math.erf(a / math.sqrt(2.0)))
        pdf = math.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi)
        self.set_stats(y, mu * cdf + sd * pdf, (mu * mu + sd * sd) * cdf + mu * sd * pdf)

    def relu(self, x, scope):
        y = self.op("Relu", [x], scope)
        self._relu_stats(y, x)
        return y

    def relu6(self, x, scope):
        # PyTorch exports ReLU6 as Clip with min/max inputs (opset >= 11).
        lo = self.const("clip_min", np.array(0.0, np.float32))
        hi = self.const("clip_max", np.array(6.0, np.float32))
        y = self.op("Clip", [x, lo, hi], scope)
        self._relu_stats(y, x)  # the upper bound rarely bites at O(1) scale
        return y

    def prelu(self, x, c, scope):
        """PRelu with a learned per-channel slope, exported by PyTorch as a
        [C, 1, 1] initializer (broadcast over H, W)."""
        a = self.rng.uniform(0.1, 0.4, (c, 1, 1)).astype(np.float32)
        y = self.op("PRelu", [x, self.param(f"{scope}.weight", a)], scope)
        # y = relu(x) - a relu(-x): moments from those of relu(x) and x.
        self._relu_stats(y, x)
        am = float(a.mean())
        rmu, rm2 = self.mu[y], self.m2[y]
        self.set_stats(y, rmu - am * (rmu - self.mu[x]), rm2 + am * am * (self.m2[x] - rm2))
        return y

    def conv_bn(self, x, cin, cout, k, scope, act="relu", **kw):
        y = self.conv(x, cin, cout, k, scope + ".conv", **kw)
        y = self.bn(y, cout, scope + ".bn")
        if act == "relu":
            y = self.relu(y, scope)
        elif act == "relu6":
            y = self.relu6(y, scope)
        return y

    def maxpool(self, x, k, s, p, scope, ceil=0):
        y = self.op("MaxPool", [x], scope, kernel_shape=[k, k], strides=[s, s],
                    pads=[p] * 4, ceil_mode=ceil)
        # Max of a window shifts the mean up by ~1-2 sd (post-ReLU inputs are
        # right-skewed, so the spread stays about the same).
        sd = math.sqrt(self.var(x))
        mu = self.mu[x] + (1.2 if k * k <= 4 else 1.7) * sd
        self.set_stats(y, mu, mu * mu + sd * sd)
        return y

    def avgpool(self, x, k, s, p, scope, ceil=0, count_include_pad=0):
        y = self.op("AveragePool", [x], scope, kernel_shape=[k, k], strides=[s, s],
                    pads=[p] * 4, ceil_mode=ceil, count_include_pad=count_include_pad)
        self.set_stats(y, self.mu[x], self.mu[x] ** 2 + 0.6 * self.var(x))
        return y

    def add(self, a, b, scope):
        y = self.op("Add", [a, b], scope)
        mu = self.mu[a] + self.mu[b]  # roughly independent summands
        self.set_stats(y, mu, mu * mu + self.var(a) + self.var(b))
        return y

    def concat(self, xs, scope):
        y = self.op("Concat", list(xs), scope, axis=1)
        chs = [self.ch[x] for x in xs]
        tot = sum(chs)
        self.set_stats(y, sum(self.mu[x] * c for x, c in zip(xs, chs)) / tot,
                       sum(self.m2[x] * c for x, c in zip(xs, chs)) / tot, tot)
        return y

    def gap_flatten(self, x, scope):
        y = self.op("GlobalAveragePool", [x], scope)
        return self.op("Flatten", [y], scope, axis=1)

    def reduce_mean(self, x, axes, keepdims, scope):
        # Opset 18 moved ReduceMean's axes from attribute to input.
        if self.opset >= 18:
            ax = self.const(f"axes_{'_'.join(map(str, axes))}".replace("-", "m"),
                            np.array(axes, np.int64))
            return self.op("ReduceMean", [x, ax], scope, keepdims=keepdims)
        return self.op("ReduceMean", [x], scope, axes=list(axes), keepdims=keepdims)

    def gemm(self, x, fin, fout, scope):
        w = self.he((fout, fin), fan_in=fin)
        y = self.op("Gemm", [x, self.param(f"{scope}.weight", w),
                             self.param(f"{scope}.bias", self.small_bias(fout))],
                    scope, alpha=1.0, beta=1.0, transB=1)
        self.set_stats(y, 0.0, 2.0 * self.m2[x], fout)
        return y

    def reflect_pad(self, x, p, scope):
        # Pad takes pads as an input since opset 11 (same form in 13 and 17).
        pads = self.const(f"pads_reflect_{p}", np.array([0, 0, p, p, 0, 0, p, p], np.int64))
        return self.op("Pad", [x, pads], scope, mode="reflect")

    def resize(self, x, scale, mode, scope, empty_roi=False):
        """Upsample by `scale` using scales (not sizes).

        Nearest uses PyTorch's upsample_nearest convention (asymmetric/floor);
        linear uses align_corners=False (half_pixel). roi is either omitted ("")
        or given as an empty tensor, as different exporters do, so consumers
        must handle both.
        """
        roi = self.const("resize_roi_empty", np.zeros((0,), np.float32)) if empty_roi else ""
        scales = self.const(f"resize_scales_{scale}", np.array([1, 1, scale, scale], np.float32))
        if mode == "nearest":
            attrs = dict(mode="nearest", coordinate_transformation_mode="asymmetric",
                         nearest_mode="floor")
        else:
            attrs = dict(mode="linear", coordinate_transformation_mode="half_pixel")
        return self.op("Resize", [x, roi, scales], scope, **attrs)

    def layernorm_last(self, x, c, scope, eps=1e-6):
        """LayerNorm over the last axis (size c).

        Opset >= 17 has LayerNormalization; before that PyTorch exports the
        decomposed form ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add.
        """
        gamma, beta = self.affine(c)
        g = self.param(f"{scope}.weight", gamma)
        b = self.param(f"{scope}.bias", beta)
        if self.opset >= 17:
            y = self.op("LayerNormalization", [x, g, b], scope, axis=-1, epsilon=eps)
            self._normalized(y, gamma, beta)
            return y
        mean = self.reduce_mean(x, [-1], 1, scope)
        d = self.op("Sub", [x, mean], scope)
        sq = self.op("Pow", [d, self.const("pow_two", np.array(2.0, np.float32))], scope)
        var = self.reduce_mean(sq, [-1], 1, scope)
        ve = self.op("Add", [var, self.const(f"ln_eps_{eps}", np.array(eps, np.float32))], scope)
        sd = self.op("Sqrt", [ve], scope)
        n = self.op("Div", [d, sd], scope)
        n = self.op("Mul", [n, g], scope)
        y = self.op("Add", [n, b], scope)
        self._normalized(y, gamma, beta)
        return y

    # ---- finish -------------------------------------------------------------
    def model(self, name, in_name, in_shape, outputs):
        """outputs: [(tensor, public name, shape)], each a graph output.

        Every output tensor is renamed to its public name (in its producer and
        any node reading it)."""
        ren = {t: pub for t, pub, _ in outputs}
        for n in self.nodes:
            for field in (n.input, n.output):
                for i, t in enumerate(field):
                    if t in ren:
                        field[i] = ren[t]
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, in_shape)],
            # An output without a shape gets its type from inference too
            # (an integer output: class ids).
            [helper.make_tensor_value_info(pub, TensorProto.FLOAT if shape else
                                           TensorProto.UNDEFINED, shape)
             for _, pub, shape in outputs],
            initializer=self.inits)
        opset = [helper.make_opsetid("", self.opset)]
        m = helper.make_model(graph, opset_imports=opset, producer_name="clcnn-zoo",
                              producer_version="1.0",
                              ir_version=helper.find_min_ir_version_for(opset))
        m.doc_string = f"{name}: seeded random weights, built by tools/zoo.py"
        return m


# =============================================================================
# Architectures
# =============================================================================

def _classifier_head(b, x, c, classes):
    x = b.gap_flatten(x, "avgpool")
    return b.gemm(x, c, classes, "fc")


def resnet(b, x, depth, classes=1000):
    """torchvision ResNet-18 (basic blocks) / ResNet-50 (v1.5 bottlenecks)."""
    layers, bottleneck = {18: ([2, 2, 2, 2], False), 50: ([3, 4, 6, 3], True)}[depth]
    exp = 4 if bottleneck else 1
    y = b.conv(x, 3, 64, 7, "conv1", stride=2, pad=3)
    y = b.relu(b.bn(y, 64, "bn1"), "relu")
    y = b.maxpool(y, 3, 2, 1, "maxpool")
    cin = 64
    for li, (n, w) in enumerate(zip(layers, [64, 128, 256, 512])):
        for bi in range(n):
            s = 2 if (bi == 0 and li > 0) else 1
            sc = f"layer{li + 1}.{bi}"
            cout = w * exp
            if bottleneck:
                t = b.conv_bn(y, cin, w, 1, f"{sc}.1")
                t = b.conv_bn(t, w, w, 3, f"{sc}.2", stride=s)
                t = b.conv_bn(t, w, cout, 1, f"{sc}.3", act=None)
            else:
                t = b.conv_bn(y, cin, w, 3, f"{sc}.1", stride=s)
                t = b.conv_bn(t, w, w, 3, f"{sc}.2", act=None)
            idn = y
            if s != 1 or cin != cout:
                idn = b.conv_bn(y, cin, cout, 1, f"{sc}.downsample", act=None, stride=s)
            y = b.relu(b.add(t, idn, sc), sc)
            cin = cout
    return _classifier_head(b, y, cin, classes)


def mobilenetv2(b, x, classes=1000):
    """MobileNetV2 1.0: inverted residuals, depthwise 3x3, ReLU6 as Clip."""
    cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
           (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    y = b.conv_bn(x, 3, 32, 3, "features.0", act="relu6", stride=2)
    cin, idx = 32, 1
    for t, c, n, s in cfg:
        for i in range(n):
            stride = s if i == 0 else 1
            sc, hid = f"features.{idx}", cin * t
            h = y
            if t != 1:
                h = b.conv_bn(h, cin, hid, 1, f"{sc}.expand", act="relu6")
            h = b.conv_bn(h, hid, hid, 3, f"{sc}.dw", act="relu6", stride=stride, groups=hid)
            h = b.conv_bn(h, hid, c, 1, f"{sc}.project", act=None)
            y = b.add(y, h, sc) if (stride == 1 and cin == c) else h
            cin, idx = c, idx + 1
    y = b.conv_bn(y, cin, 1280, 1, f"features.{idx}", act="relu6")
    # Older torchvision: x.mean([2, 3]) -> ReduceMean(keepdims=0), no Flatten.
    y = b.reduce_mean(y, [2, 3], 0, "mean")
    return b.gemm(y, 1280, classes, "classifier.1")


def squeezenet1_1(b, x, classes=1000):
    """SqueezeNet 1.1: Fire modules (squeeze 1x1, expand 1x1 || 3x3), no BN."""
    def fire(y, cin, sq, e1, e3, sc):
        s = b.relu(b.conv(y, cin, sq, 1, f"{sc}.squeeze", bias=True), f"{sc}.squeeze")
        a = b.relu(b.conv(s, sq, e1, 1, f"{sc}.expand1x1", bias=True), f"{sc}.expand1x1")
        c = b.relu(b.conv(s, sq, e3, 3, f"{sc}.expand3x3", bias=True), f"{sc}.expand3x3")
        return b.concat([a, c], sc)

    y = b.relu(b.conv(x, 3, 64, 3, "features.0", stride=2, pad=0, bias=True), "features.1")
    y = b.maxpool(y, 3, 2, 0, "features.2", ceil=1)
    y = fire(y, 64, 16, 64, 64, "features.3")
    y = fire(y, 128, 16, 64, 64, "features.4")
    y = b.maxpool(y, 3, 2, 0, "features.5", ceil=1)
    y = fire(y, 128, 32, 128, 128, "features.6")
    y = fire(y, 256, 32, 128, 128, "features.7")
    y = b.maxpool(y, 3, 2, 0, "features.8", ceil=1)
    y = fire(y, 256, 48, 192, 192, "features.9")
    y = fire(y, 384, 48, 192, 192, "features.10")
    y = fire(y, 384, 64, 256, 256, "features.11")
    y = fire(y, 512, 64, 256, 256, "features.12")
    y = b.relu(b.conv(y, 512, classes, 1, "classifier.1", bias=True), "classifier.2")
    y = b.op("GlobalAveragePool", [y], "classifier.3")
    return b.op("Flatten", [y], "flatten", axis=1)


def densenet121(b, x, classes=1000, blocks=(6, 12, 24, 16)):
    """DenseNet-121 (growth 32, bn_size 4). Each dense layer concatenates all
    previous feature maps, exactly as torchvision's torch.cat(prev_features)."""
    growth, bn_size = 32, 4
    y = b.conv(x, 3, 64, 7, "features.conv0", stride=2, pad=3)
    y = b.relu(b.bn(y, 64, "features.norm0"), "features.relu0")
    y = b.maxpool(y, 3, 2, 1, "features.pool0")
    c = 64
    for bi, n in enumerate(blocks):
        feats = [y]
        for li in range(n):
            sc = f"features.denseblock{bi + 1}.denselayer{li + 1}"
            cat = b.concat(feats, sc) if len(feats) > 1 else feats[0]
            cc = c + li * growth
            h = b.relu(b.bn(cat, cc, f"{sc}.norm1"), f"{sc}.relu1")
            h = b.conv(h, cc, bn_size * growth, 1, f"{sc}.conv1")
            h = b.relu(b.bn(h, bn_size * growth, f"{sc}.norm2"), f"{sc}.relu2")
            h = b.conv(h, bn_size * growth, growth, 3, f"{sc}.conv2")
            feats.append(h)
        y = b.concat(feats, f"features.denseblock{bi + 1}")
        c = c + n * growth
        if bi != len(blocks) - 1:
            sc = f"features.transition{bi + 1}"
            y = b.relu(b.bn(y, c, f"{sc}.norm"), f"{sc}.relu")
            y = b.conv(y, c, c // 2, 1, f"{sc}.conv")
            y = b.avgpool(y, 2, 2, 0, f"{sc}.pool")
            c //= 2
    y = b.relu(b.bn(y, c, "features.norm5"), "relu")
    return _classifier_head(b, y, c, classes)


def inception(b, x, classes=1000):
    """GoogLeNet (Inception v1) in its original Caffe form: conv+bias+ReLU,
    LRN in the stem, ceil-mode max pools, 4 parallel branches per block."""
    def lrn(y, sc):
        # alpha is GoogLeNet's 1e-4 rescaled for O(1) activations (Caffe fed
        # 0..255 pixels, ~50x larger), so LRN really changes the values here.
        return b.op("LRN", [y], sc, size=5, alpha=0.25, beta=0.75, bias=1.0)

    def cbr(y, cin, cout, k, sc, **kw):
        return b.relu(b.conv(y, cin, cout, k, sc, bias=True, **kw), sc)

    def block(y, cin, c1, c3r, c3, c5r, c5, pp, sc):
        a = cbr(y, cin, c1, 1, f"{sc}.1x1")
        m = cbr(cbr(y, cin, c3r, 1, f"{sc}.3x3_reduce"), c3r, c3, 3, f"{sc}.3x3")
        f = cbr(cbr(y, cin, c5r, 1, f"{sc}.5x5_reduce"), c5r, c5, 5, f"{sc}.5x5")
        p = b.maxpool(y, 3, 1, 1, f"{sc}.pool")
        p = cbr(p, cin, pp, 1, f"{sc}.pool_proj")
        return b.concat([a, m, f, p], sc), c1 + c3 + c5 + pp

    y = cbr(x, 3, 64, 7, "conv1", stride=2, pad=3)
    y = b.maxpool(y, 3, 2, 0, "pool1", ceil=1)
    y = lrn(y, "norm1")
    y = cbr(y, 64, 64, 1, "conv2.reduce")
    y = cbr(y, 64, 192, 3, "conv2")
    y = lrn(y, "norm2")
    y = b.maxpool(y, 3, 2, 0, "pool2", ceil=1)
    c = 192
    y, c = block(y, c, 64, 96, 128, 16, 32, 32, "inception_3a")
    y, c = block(y, c, 128, 128, 192, 32, 96, 64, "inception_3b")
    y = b.maxpool(y, 3, 2, 0, "pool3", ceil=1)
    y, c = block(y, c, 192, 96, 208, 16, 48, 64, "inception_4a")
    y, c = block(y, c, 160, 112, 224, 24, 64, 64, "inception_4b")
    y, c = block(y, c, 128, 128, 256, 24, 64, 64, "inception_4c")
    y, c = block(y, c, 112, 144, 288, 32, 64, 64, "inception_4d")
    y, c = block(y, c, 256, 160, 320, 32, 128, 128, "inception_4e")
    y = b.maxpool(y, 3, 2, 0, "pool4", ceil=1)
    y, c = block(y, c, 256, 160, 320, 32, 128, 128, "inception_5a")
    y, c = block(y, c, 384, 192, 384, 48, 128, 128, "inception_5b")
    return _classifier_head(b, y, c, classes)


def unet(b, x):
    """Small U-Net for image restoration: 3 levels, InstanceNorm encoder,
    decoder upsampling via ConvTranspose, nearest Resize and linear Resize,
    skip Concats, a channels-last LayerNorm in the bottleneck (ConvNeXt
    style), Sigmoid image output."""
    def block(y, cin, cout, sc):
        y = b.relu(b.instnorm(b.conv(y, cin, cout, 3, f"{sc}.conv1"), cout, f"{sc}.in1"), f"{sc}.1")
        return b.relu(b.instnorm(b.conv(y, cout, cout, 3, f"{sc}.conv2"), cout, f"{sc}.in2"), f"{sc}.2")

    e1 = block(x, 3, 32, "enc1")
    e2 = block(b.maxpool(e1, 2, 2, 0, "pool1"), 32, 64, "enc2")
    e3 = block(b.maxpool(e2, 2, 2, 0, "pool2"), 64, 128, "enc3")
    m = block(b.maxpool(e3, 2, 2, 0, "pool3"), 128, 256, "mid")
    # Channels-last LayerNorm: NCHW -> NHWC -> LN(C) -> NCHW.
    t = b.op("Transpose", [m], "mid.ln", perm=[0, 2, 3, 1])
    t = b.layernorm_last(t, 256, "mid.ln")
    m = b.op("Transpose", [t], "mid.ln", perm=[0, 3, 1, 2])
    m = b.relu(b.conv(m, 256, 256, 3, "mid.conv3", bias=True), "mid.3")

    u3 = b.conv_transpose(m, 256, 128, 3, 2, 1, 1, "up3")
    d3 = block(b.concat([u3, e3], "cat3"), 256, 128, "dec3")
    u2 = b.resize(d3, 2.0, "nearest", "up2")
    u2 = b.relu(b.conv(u2, 128, 64, 3, "up2.conv", bias=True), "up2")
    d2 = block(b.concat([u2, e2], "cat2"), 128, 64, "dec2")
    u1 = b.resize(d2, 2.0, "linear", "up1", empty_roi=True)
    u1 = b.relu(b.conv(u1, 64, 32, 3, "up1.conv", bias=True), "up1")
    d1 = block(b.concat([u1, e1], "cat1"), 64, 32, "dec1")
    y = b.conv(d1, 32, 3, 1, "head", bias=True)
    return b.op("Sigmoid", [y], "head")


def style(b, x, n_res=5):
    """Fast style transfer network (Johnson et al.): reflect-padded convs with
    InstanceNorm, 5 residual blocks, nearest-Resize upsampling, Tanh output."""
    def cir(y, cin, cout, k, sc, stride=1, relu=True):
        y = b.reflect_pad(y, k // 2, sc)
        y = b.conv(y, cin, cout, k, f"{sc}.conv", stride=stride, pad=0, bias=True)
        y = b.instnorm(y, cout, f"{sc}.in")
        return b.relu(y, sc) if relu else y

    y = cir(x, 3, 32, 9, "conv1")
    y = cir(y, 32, 64, 3, "conv2", stride=2)
    y = cir(y, 64, 128, 3, "conv3", stride=2)
    for i in range(n_res):
        sc = f"res{i + 1}"
        r = cir(y, 128, 128, 3, f"{sc}.a")
        r = cir(r, 128, 128, 3, f"{sc}.b", relu=False)
        y = b.add(y, r, sc)
    y = cir(b.resize(y, 2.0, "nearest", "deconv1.up"), 128, 64, 3, "deconv1")
    y = cir(b.resize(y, 2.0, "nearest", "deconv2.up"), 64, 32, 3, "deconv2")
    y = b.reflect_pad(y, 4, "deconv3")
    y = b.conv(y, 32, 3, 9, "deconv3.conv", pad=0, bias=True)
    return b.op("Tanh", [y], "output")


def pnet(b, x):
    """MTCNN's P-Net (the proposal stage of a face detector), fully
    convolutional so it runs on any image size: conv/PRelu trunk with a
    ceil-mode 2x2 max pool, then two heads reading the same feature map: face
    scores (Conv to 2 channels, Softmax over channels) and box regressions
    (Conv to 4 channels). Returns both outputs; their shapes come from shape
    inference."""
    y = b.prelu(b.conv(x, 3, 10, 3, "conv1", pad=0, bias=True), 10, "prelu1")
    y = b.maxpool(y, 2, 2, 0, "pool1", ceil=1)
    y = b.prelu(b.conv(y, 10, 16, 3, "conv2", pad=0, bias=True), 16, "prelu2")
    y = b.prelu(b.conv(y, 16, 32, 3, "conv3", pad=0, bias=True), 32, "prelu3")
    s = b.conv(y, 32, 2, 1, "conv4_1", pad=0, bias=True)
    s = b.op("Softmax", [s], "softmax4_1", axis=1)
    r = b.conv(y, 32, 4, 1, "conv4_2", pad=0, bias=True)
    return [(s, "scores", None), (r, "boxes", None)]


def detect_head(b, x, classes=6, k=10):
    """The end of a single-stage detector as YOLO/SSD exports write it: a
    strided conv trunk, per-anchor class scores (Sigmoid) and boxes, the k
    anchors with the best score (ReduceMax, TopK), their boxes (GatherElements
    over the indices expanded to 4 columns) and class ids (ArgMax, then
    GatherND with batch_dims 1), and an If on the batch size (Shape, Gather,
    Equal: folded at load) choosing between two forms of the box output."""
    y = b.conv_bn(x, 3, 16, 3, "trunk1", stride=2)
    y = b.conv_bn(y, 16, 32, 3, "trunk2", stride=2)
    s = b.conv(y, 32, classes, 1, "cls", pad=0, bias=True)
    r = b.conv(y, 32, 4, 1, "box", pad=0, bias=True)
    s = b.op("Reshape", [s, b.const("shape_cls", np.array([1, classes, -1], np.int64))], "cls")
    s = b.op("Sigmoid", [b.op("Transpose", [s], "cls", perm=[0, 2, 1])], "cls")
    r = b.op("Reshape", [r, b.const("shape_box", np.array([1, 4, -1], np.int64))], "box")
    r = b.op("Transpose", [r], "box", perm=[0, 2, 1])
    best = b.op("ReduceMax", [s], "select", axes=[2], keepdims=0)
    vals, idx = b.op("TopK", [best, b.const("k", np.array([k], np.int64))], "select", n_out=2,
                     axis=1)
    idx3 = b.op("Unsqueeze", [idx, b.const("axes_2", np.array([2], np.int64))], "select")
    idx4 = b.op("Expand", [idx3, b.const("shape_k4", np.array([1, k, 4], np.int64))], "select")
    boxes = b.op("GatherElements", [r, idx4], "select", axis=1)
    cls = b.op("ArgMax", [s], "select", axis=2, keepdims=0)
    cls_k = b.op("GatherND", [cls, idx3], "select", batch_dims=1)
    # If (batch == 1): the boxes as they are, else scaled (never taken here).
    n0 = b.op("Gather", [b.op("Shape", [x], "batch"), b.const("zero", np.array(0, np.int64))],
              "batch", axis=0)
    one = b.op("Equal", [n0, b.const("one", np.array(1, np.int64))], "batch")
    then_g = helper.make_graph([helper.make_node("Identity", [boxes], ["boxes_then"])], "then",
                               [], [helper.make_tensor_value_info("boxes_then", TensorProto.FLOAT,
                                                                  None)])
    two = b.const("two", np.array(2.0, np.float32))
    else_g = helper.make_graph([helper.make_node("Mul", [boxes, two], ["boxes_else"])], "else",
                               [], [helper.make_tensor_value_info("boxes_else", TensorProto.FLOAT,
                                                                  None)])
    boxes = b.op("If", [one], "batch", then_branch=then_g, else_branch=else_g)
    return [(vals, "scores", None), (boxes, "boxes", None), (cls_k, "classes", None)]


def stn(b, x):
    """Spatial transformer (an imaging warp): a small localisation net
    predicts an affine transform (Gemm to 6 values near the identity), the
    sampling grid is the pixel centres times that transform (Einsum, a
    batched matrix product), GridSample warps the image (bilinear, border
    padding), a conv follows. Needs opset 16 (GridSample)."""
    n, c, h, w = 1, 3, b.image_size, b.image_size
    loc = b.conv_bn(x, 3, 8, 3, "loc1", stride=4)
    loc = b.gap_flatten(loc, "loc")
    wt = (b.rng.standard_normal((6, 8)) * 0.05).astype(np.float32)
    bias = np.array([0.9, 0.1, 0.05, -0.1, 1.1, -0.05], np.float32)
    theta = b.op("Gemm", [loc, b.param("loc.fc.weight", wt), b.param("loc.fc.bias", bias)],
                 "loc", transB=1)
    theta = b.op("Reshape", [theta, b.const("shape_theta", np.array([n, 2, 3], np.int64))], "loc")
    xs = (2 * np.arange(w) + 1) / w - 1
    ys = (2 * np.arange(h) + 1) / h - 1
    gx, gy = np.meshgrid(xs, ys)
    base = np.stack([gx.ravel(), gy.ravel(), np.ones(h * w)], axis=1).astype(np.float32)
    grid = b.op("Einsum", [theta, b.const("base_grid", base)], "grid", equation="bij,pj->bpi")
    grid = b.op("Reshape", [grid, b.const("shape_grid", np.array([n, h, w, 2], np.int64))], "grid")
    y = b.op("GridSample", [x, grid], "warp", mode="bilinear", padding_mode="border",
             align_corners=0)
    return b.conv(y, c, c, 3, "out", bias=True)


def sr2x(b, x):
    """A x2 super-resolution net in ESPCN's shape, as PyTorch exports
    nn.PixelShuffle(2): convolutions to 4 x 3 channels, then DepthToSpace
    (CRD mode, blocksize 2). The output is twice the input's size."""
    y = b.relu(b.conv(x, 3, 32, 5, "conv1", bias=True), "relu1")
    y = b.relu(b.conv(y, 32, 32, 3, "conv2", bias=True), "relu2")
    y = b.conv(y, 32, 12, 3, "conv3", bias=True)
    y = b.op("DepthToSpace", [y], "shuffle", blocksize=2, mode="CRD")
    return [(y, "output", None)]


# name -> (builder fn, kind). kind picks input/output convention.
MODELS = {
    "resnet18": (lambda b, x: resnet(b, x, 18), "classifier"),
    "resnet50": (lambda b, x: resnet(b, x, 50), "classifier"),
    "mobilenetv2": (mobilenetv2, "classifier"),
    "squeezenet1_1": (squeezenet1_1, "classifier"),
    "densenet121": (densenet121, "classifier"),
    "inception": (inception, "classifier"),
    "unet": (unet, "image"),
    "style": (style, "image"),
    "pnet": (pnet, "detector"),
    "detect_head": (detect_head, "detector"),
    "stn": (stn, "image"),
    "sr2x": (sr2x, "image"),
}

# Models that need a newer opset than the zoo's lowest: skipped below it.
MIN_OPSET = {"stn": 16}

# Input H x W of the detector: not square, and odd conv1 output height so
# the ceil-mode pool has a partial window.
DETECTOR_HW = (49, 64)


def build(name, opset, size=224, image_size=128):
    """Return (ModelProto, input ndarray) for one zoo model.

    size is the H=W of classifiers, image_size that of unet/style; the
    detector's input is DETECTOR_HW.
    """
    fn, kind = MODELS[name]
    if kind == "image":
        size = image_size
        if size % 8:
            raise ValueError(f"{name}: image size must be a multiple of 8 (got {size})")
    b = Builder(opset, SEEDS[name])
    b.image_size = size
    in_shape = [1, 3, *DETECTOR_HW] if kind == "detector" else [1, 3, size, size]
    # Input moments: N(0,1) normalised image, U(0,1) pixels, or MTCNN's
    # (pixel - 127.5) / 128, about U(-1,1).
    if kind == "classifier":
        b.set_stats("input", 0.0, 1.0, 3)
    elif kind == "detector":
        b.set_stats("input", 0.0, 1.0 / 3.0, 3)
    else:
        b.set_stats("input", 0.5, 1.0 / 3.0, 3)
    out = fn(b, "input")
    if kind == "classifier":
        outs = [(out, "logits", [1, 1000])]
    elif kind == "image":
        # An image-to-image net of another size (sr2x) gives its outputs.
        outs = out if isinstance(out, list) else [(out, "output", in_shape)]
    else:
        outs = out
    model = b.model(name, "input", in_shape, outs)
    if any(shape is None for _, _, shape in outs):
        model = _infer_output_types(model)
    # Seeded input, independent of the weight stream: normalised image for
    # classifiers, pixels in [0, 1] for imaging models, [-1, 1] for the detector.
    r = np.random.default_rng(SEEDS[name] + 7)
    if kind == "classifier":
        inp = r.standard_normal(in_shape, dtype=np.float32)
    elif kind == "detector":
        inp = r.uniform(-1.0, 1.0, in_shape).astype(np.float32)
    else:
        inp = r.uniform(0.0, 1.0, in_shape).astype(np.float32)
    return model, inp


def _inferred_types(model):
    """{tensor name: ValueInfoProto} with full types, from strict shape inference."""
    inf = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    g = inf.graph
    return {v.name: v for v in list(g.input) + list(g.value_info) + list(g.output)
            if v.type.tensor_type.HasField("shape")}


def _typed_copy(vi, name):
    v = onnx.ValueInfoProto()
    v.CopyFrom(vi)
    dims = v.type.tensor_type.shape.dim
    if not all(d.HasField("dim_value") for d in dims):
        raise ValueError(f"{name}: shape inference left a symbolic dimension")
    return v


def _infer_output_types(model):
    """Fill in the shapes of graph outputs declared without one."""
    types = _inferred_types(model)
    for o in model.graph.output:
        if not o.type.tensor_type.HasField("shape"):
            if o.name not in types:
                raise ValueError(f"{o.name}: no shape from shape inference")
            o.CopyFrom(_typed_copy(types[o.name], o.name))
    return model


def add_outputs(model, names):
    """Return a copy of model with the tensors `names` (node outputs) appended
    to graph.output, in that order, typed by onnx shape inference. Nothing
    else changes: the tensors keep their producers and their consumers."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    produced = {o for n in m.graph.node for o in n.output}
    have = {o.name for o in m.graph.output}
    types = _inferred_types(m)
    for name in names:
        if name not in produced:
            raise ValueError(f"{name}: not a node output")
        if name in have:
            raise ValueError(f"{name}: already a graph output")
        m.graph.output.append(_typed_copy(types[name], name))
        have.add(name)
    return m


ACTIVATIONS = {"Relu", "Clip", "PRelu", "LeakyRelu", "Sigmoid", "Tanh"}


def multi_taps(model):
    """Pick 3-4 intermediate tensors, spread through the network, to expose
    as extra graph outputs. Every pick is also read by later nodes (the case
    a runtime can get wrong: a graph output that must stay intact while its
    consumers run, and must survive fusions into those consumers):
      - the first activation (early; e.g. the stem ReLU feeding the pool),
      - the first Add/Concat output from a fifth of the way on (a residual
        sum or a skip concatenation), if the model has one,
      - the first node output from the middle of the graph (whatever op: it
        may be a Conv that BatchNormalization or an activation follows),
      - a tensor with two or more readers from three quarters on (a block
        output feeding both a branch and a residual, or two heads).
    """
    nodes = list(model.graph.node)
    graph_outs = {o.name for o in model.graph.output}
    readers = {}
    for n in nodes:
        for t in n.input:
            readers[t] = readers.get(t, 0) + 1
    taps = []

    def first(start, pred):
        for i in range(start, len(nodes)):
            n = nodes[i]
            t = n.output[0] if n.output else ""
            if t and t not in graph_outs and t not in taps and readers.get(t, 0) > 0 \
                    and pred(n, t):
                taps.append(t)
                return

    N = len(nodes)
    first(0, lambda n, t: n.op_type in ACTIVATIONS)
    first(N // 5, lambda n, t: n.op_type in ("Add", "Concat"))
    first(N // 2, lambda n, t: True)
    k = len(taps)
    first(3 * N // 4, lambda n, t: readers[t] >= 2)
    if len(taps) == k:  # small graphs: any later tensor with two readers
        first(N // 2, lambda n, t: readers[t] >= 2)
    order = {o: i for i, n in enumerate(nodes) for o in n.output}
    return sorted(taps, key=order.get)


def build_multi(name, opset, size=224, image_size=128):
    """The <name>_multi variant: build() plus multi_taps() as extra outputs
    (after the original ones, which keep their positions)."""
    model, inp = build(name, opset, size, image_size)
    model = add_outputs(model, multi_taps(model))
    model.graph.name = f"{name}_multi"
    return model, inp


def validate(model):
    onnx.checker.check_model(model, full_check=False)
    # strict_mode raises on any inconsistency, including the declared output shape.
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    return inferred


def count_params(model):
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer)


def op_types(model):
    return sorted({n.op_type for n in model.graph.node})


def write_case(model, inp, dirpath):
    os.makedirs(os.path.join(dirpath, "test_data_set_0"), exist_ok=True)
    onnx.save(model, os.path.join(dirpath, "model.onnx"))
    t = numpy_helper.from_array(inp, model.graph.input[0].name)
    with open(os.path.join(dirpath, "test_data_set_0", "input_0.pb"), "wb") as f:
        f.write(t.SerializeToString())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma-separated subset of: " + ",".join(MODELS))
    ap.add_argument("--opsets", default="13,17", help="comma-separated opsets (13..21)")
    ap.add_argument("--multi-opsets", default="17",
                    help="opsets of the <name>_multi variants (extra intermediate "
                         "outputs), comma-separated; empty for none (default 17)")
    ap.add_argument("--size", type=int, default=224, help="classifier input H=W (default 224)")
    ap.add_argument("--image-size", type=int, default=128,
                    help="unet/style input H=W, multiple of 8 (default 128)")
    ap.add_argument("--list-ops", action="store_true",
                    help="print the operators each model uses (and a variant's extra outputs)")
    a = ap.parse_args(argv)

    names = [m.strip() for m in a.models.split(",") if m.strip()]
    bad = [m for m in names if m not in MODELS]
    if bad:
        ap.error(f"unknown model(s): {','.join(bad)}; known: {','.join(MODELS)}")
    opsets = [int(o) for o in a.opsets.split(",") if o.strip()]
    multi = [int(o) for o in a.multi_opsets.split(",") if o.strip()]
    if any(o < 13 for o in opsets + multi):
        ap.error("opsets below 13 are not supported (Split/Squeeze/Resize forms differ)")

    jobs = [(name, opset, False) for name in names for opset in opsets]
    jobs += [(name, opset, True) for name in names for opset in multi]
    jobs = [j for j in jobs if j[1] >= MIN_OPSET.get(j[0], 0)]
    t_all = time.time()
    for name, opset, is_multi in jobs:
        case = f"{name}_multi_op{opset}" if is_multi else f"{name}_op{opset}"
        t0 = time.time()
        try:
            model, inp = (build_multi if is_multi else build)(name, opset, a.size, a.image_size)
            validate(model)
        except (ValueError, onnx.checker.ValidationError,
                onnx.shape_inference.InferenceError) as e:
            print(f"error: {case}: {e}", file=sys.stderr)
            return 1
        d = os.path.join(a.out, case)
        write_case(model, inp, d)
        size = os.path.getsize(os.path.join(d, "model.onnx"))
        print(f"{case:<22s} params={count_params(model):>10,d}  "
              f"nodes={len(model.graph.node):4d}  outputs={len(model.graph.output)}  "
              f"size={size / 2**20:7.2f} MiB  {time.time() - t0:5.2f}s", flush=True)
        if a.list_ops:
            print("    ops: " + " ".join(op_types(model)))
            if len(model.graph.output) > 1:
                print("    outputs: " + " ".join(o.name for o in model.graph.output))
    print(f"done in {time.time() - t_all:.1f}s -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
