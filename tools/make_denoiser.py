#!/usr/bin/env python3
"""Build the image-to-image demo models and a sample picture (numpy + onnx only).

Writes (relative to the repository root unless --out-dir is given):
    examples/denoise.onnx    an edge-aware residual denoiser, any H x W
    examples/upscale2x.onnx  a x2 upscaler (Conv to 4 phases + DepthToSpace + sharpening)
    examples/noisy.png       a synthetic 256x192 picture with seeded Gaussian noise
    examples/clean.png       the same picture without noise (to compare)

The networks use fixed filters (no training), so they are exact and small:

  denoise:   x [1,3,H,W] in [0,1]
             b    = Conv(x, 7x7 Gaussian, depthwise)             smoothed picture
             g    = Conv(b, Sobel x/y of the luma) -> gx, gy     edges of the smoothed picture
             gate = Sigmoid(A - K * (gx^2 + gy^2))               1 on flat areas, 0 on edges
             y    = x + gate * (b - x)                            residual: smooth only where flat
             Receptive field radius 4: `--tile ... --overlap 16` equals a whole-image run.

  upscale2x: x [1,3,H,W] -> Conv 3->12 (bilinear phases, 3x3) -> DepthToSpace(2)
             -> y + 0.5 * (y - Conv(y, 3x3 box))                 mild unsharp mask
"""

import argparse
import os
import struct
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20250110
OPSET = 13


def gaussian(size, sigma):
    r = np.arange(size) - size // 2
    g = np.exp(-(r ** 2) / (2 * sigma ** 2))
    k = np.outer(g, g)
    return (k / k.sum()).astype(np.float32)


def conv_node(name, x, w, b, pads, group=1):
    ins = [x, w] + ([b] if b else [])
    return helper.make_node("Conv", ins, [name], name=name, pads=pads, group=group)


def io(name, h="H", w="W"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 3, h, w])


def build_denoiser():
    inits = []
    g = np.zeros((3, 1, 7, 7), np.float32)
    g[:, 0] = gaussian(7, 1.8)
    inits.append(numpy_helper.from_array(g, "blur.w"))
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    sx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32) / 8
    sob = np.zeros((2, 3, 3, 3), np.float32)
    for c in range(3):
        sob[0, c] = luma[c] * sx
        sob[1, c] = luma[c] * sx.T
    inits.append(numpy_helper.from_array(sob, "edge.w"))
    # Edge energy of the smoothed noise (sigma 0.08) is ~1e-4; real edges
    # are 1e-3 and more.
    inits.append(numpy_helper.from_array(np.ones((1, 2, 1, 1), np.float32), "sum.w"))
    inits.append(numpy_helper.from_array(np.array(6.0, np.float32), "gate.a"))
    inits.append(numpy_helper.from_array(np.array(6000.0, np.float32), "gate.k"))
    nodes = [
        conv_node("blur", "image", "blur.w", None, [3, 3, 3, 3], group=3),
        conv_node("edges", "blur", "edge.w", None, [1, 1, 1, 1]),
        helper.make_node("Mul", ["edges", "edges"], ["energy2"], name="square"),
        conv_node("energy", "energy2", "sum.w", None, [0, 0, 0, 0]),  # gx^2 + gy^2
        helper.make_node("Mul", ["energy", "gate.k"], ["scaled"], name="scale"),
        helper.make_node("Sub", ["gate.a", "scaled"], ["logit"], name="logit"),
        helper.make_node("Sigmoid", ["logit"], ["gate"], name="gate"),
        helper.make_node("Sub", ["blur", "image"], ["detail"], name="detail"),
        helper.make_node("Mul", ["gate", "detail"], ["correction"], name="correction"),
        helper.make_node("Add", ["image", "correction"], ["denoised"], name="residual"),
    ]
    graph = helper.make_graph(nodes, "denoise", [io("image")], [io("denoised")], inits)
    return graph


def build_upscaler():
    # Phase (dy, dx) of output pixel (2i+dy, 2j+dx): bilinear weights of the
    # 3x3 input neighbourhood at offsets 0.25 / 0.75.
    w = np.zeros((12, 3, 3, 3), np.float32)
    taps = {0: {0: 0.25, 1: 0.75}, 1: {1: 0.75, 2: 0.25}}  # phase -> {kernel index: weight}
    for c in range(3):
        for dy in range(2):
            for dx in range(2):
                # DepthToSpace DCR: output channel c, block (dy, dx) is input
                # channel (dy * 2 + dx) * C + c.
                oc = (dy * 2 + dx) * 3 + c
                for ky, wy in taps[dy].items():
                    for kx, wx in taps[dx].items():
                        w[oc, c, ky, kx] = wy * wx
    box = np.zeros((3, 1, 3, 3), np.float32)
    box[:, 0] = 1.0 / 9
    inits = [numpy_helper.from_array(w, "phases.w"), numpy_helper.from_array(box, "box.w"),
             numpy_helper.from_array(np.array(0.5, np.float32), "amount")]
    nodes = [
        conv_node("phases", "image", "phases.w", None, [1, 1, 1, 1]),
        helper.make_node("DepthToSpace", ["phases"], ["up"], name="shuffle", blocksize=2,
                         mode="DCR"),
        conv_node("box", "up", "box.w", None, [1, 1, 1, 1], group=3),
        helper.make_node("Sub", ["up", "box"], ["hi"], name="highpass"),
        helper.make_node("Mul", ["hi", "amount"], ["sharp"], name="amount"),
        helper.make_node("Add", ["up", "sharp"], ["upscaled"], name="sharpen"),
    ]
    return helper.make_graph(nodes, "upscale2x", [io("image")], [io("upscaled", "H2", "W2")],
                             inits)


def picture(w=256, h=192):
    """A synthetic scene: sky gradient, sun, hills, striped and checkered
    panels, and a few bars of different widths."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    t = y / h
    img[..., 0] = 0.35 + 0.3 * t
    img[..., 1] = 0.55 + 0.25 * t
    img[..., 2] = 0.95 - 0.2 * t
    sun = (x - 205) ** 2 + (y - 42) ** 2 < 22 ** 2
    img[sun] = [1.0, 0.85, 0.3]
    hill = y > 120 + 20 * np.sin(x / 37.0) + 12 * np.cos(x / 13.0)
    img[hill] = np.stack([0.2 + 0.1 * np.sin(x / 9.0), 0.55 + 0.1 * t, 0.25 + 0 * x], -1)[hill]
    panel = (x > 20) & (x < 100) & (y > 30) & (y < 95)
    stripes = (np.floor(x / 6) % 2 == 0)
    img[panel & stripes] = [0.9, 0.9, 0.9]
    img[panel & ~stripes] = [0.15, 0.15, 0.2]
    check = (x > 120) & (x < 170) & (y > 70) & (y < 110)
    cells = ((np.floor(x / 10) + np.floor(y / 10)) % 2 == 0)
    img[check & cells] = [0.8, 0.2, 0.2]
    img[check & ~cells] = [0.95, 0.95, 0.6]
    for i, bw in enumerate([1, 2, 3, 5, 8]):
        x0 = 30 + i * 45
        bar = (x >= x0) & (x < x0 + bw) & (y > 148) & (y < 184)
        img[bar] = [0.05, 0.05, 0.05]
    return np.clip(img, 0, 1)


def write_png(path, img):
    """8-bit RGB PNG with zlib (filter 0)."""
    h, w, c = img.shape
    px = np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
    raw = b"".join(b"\x00" + px[r].tobytes() for r in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def save(graph, path):
    model = helper.make_model(graph, producer_name="clcnn tools/make_denoiser.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(root, "examples"))
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    save(build_denoiser(), os.path.join(args.out_dir, "denoise.onnx"))
    save(build_upscaler(), os.path.join(args.out_dir, "upscale2x.onnx"))
    rng = np.random.default_rng(SEED)
    clean = picture()
    noisy = clean + rng.normal(0.0, 0.08, clean.shape).astype(np.float32)
    write_png(os.path.join(args.out_dir, "clean.png"), clean)
    write_png(os.path.join(args.out_dir, "noisy.png"), noisy)
    for f in ("denoise.onnx", "upscale2x.onnx", "noisy.png", "clean.png"):
        p = os.path.join(args.out_dir, f)
        print(f"wrote {p} ({os.path.getsize(p)} bytes)")


if __name__ == "__main__":
    main()
