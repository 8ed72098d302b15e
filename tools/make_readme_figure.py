#!/usr/bin/env python3
"""Makes docs/denoise_demo.png, the README's picture of the demo denoiser:
examples/noisy.png, what `clcnn run examples/denoise.onnx --input
examples/noisy.png --output-image OUT` writes, and examples/clean.png (the
picture before the noise was added), side by side, with a crop of each
enlarged 3x below. The middle panel is the PNG that the command writes, as
it is. Needs numpy (documentation tooling; the library never does).

    python3 tools/make_readme_figure.py --clcnn build/tools/clcnn
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_png(path):
    """8-bit gray/RGB/RGBA PNG, not interlaced (all five row filters)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and color in (0, 2, 6), (path, depth, color)
            c = {0: 1, 2: 3, 6: 4}[color]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * c
    out = np.zeros((h, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        row = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, dtype=np.int32)
        for i in range(stride):
            a = cur[i - c] if i >= c else 0
            b = prev[i]
            d = prev[i - c] if i >= c else 0
            if f == 0:
                p = 0
            elif f == 1:
                p = a
            elif f == 2:
                p = b
            elif f == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - d), abs(a - d), abs(a + b - 2 * d)
                p = a if pa <= pb and pa <= pc else b if pb <= pc else d
            cur[i] = (row[i] + p) & 255
        out[y] = cur
        prev = cur
    img = out.reshape(h, w, c).astype(np.uint8)
    return np.repeat(img, 3, axis=2) if c == 1 else img[:, :, :3]


def write_png(path, img):
    """RGB uint8; each row with the Up filter where it repeats the row above."""
    h, w, _ = img.shape
    rows = []
    for y in range(h):
        if y > 0 and np.array_equal(img[y], img[y - 1]):
            rows.append(b"\x02" + bytes(w * 3))
        else:
            sub = img[y].astype(np.int16).reshape(-1)
            d = (sub - np.concatenate([np.zeros(3, np.int16), sub[:-3]])) & 255
            rows.append(b"\x01" + d.astype(np.uint8).tobytes())

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xffffffff)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clcnn", default=os.path.join(ROOT, "build", "tools", "clcnn"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "denoise_demo.png"))
    ap.add_argument("--crop", default="150,40,64,48", help="X,Y,W,H of the enlarged crop")
    args = ap.parse_args()
    ex = os.path.join(ROOT, "examples")
    with tempfile.TemporaryDirectory() as tmp:
        den = os.path.join(tmp, "denoised.png")
        cmd = [args.clcnn, "run", os.path.join(ex, "denoise.onnx"), "--device", "cpu",
               "--input", os.path.join(ex, "noisy.png"), "--output-image", den,
               "--output-dir", tmp]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        panels = [read_png(os.path.join(ex, "noisy.png")), read_png(den),
                  read_png(os.path.join(ex, "clean.png"))]
    h, w, _ = panels[0].shape
    cx, cy, cw, ch = (int(v) for v in args.crop.split(","))
    gap, zoom = 6, 3
    crops = [np.repeat(np.repeat(p[cy:cy + ch, cx:cx + cw], zoom, 0), zoom, 1) for p in panels]
    zw = crops[0].shape[1]
    width = 3 * w + 2 * gap
    height = h + gap + crops[0].shape[0]
    fig = np.full((height, width, 3), 255, np.uint8)
    for k in range(3):
        x0 = k * (w + gap)
        fig[:h, x0:x0 + w] = panels[k]
        # The crop's frame on the full panel (dark outline).
        fig[cy, x0 + cx:x0 + cx + cw] = fig[cy + ch - 1, x0 + cx:x0 + cx + cw] = 0
        fig[cy:cy + ch, x0 + cx] = fig[cy:cy + ch, x0 + cx + cw - 1] = 0
        zx = x0 + (w - zw) // 2
        fig[h + gap:, zx:zx + zw] = crops[k]
    write_png(args.out, fig)
    print("%s: %dx%d, %d bytes" % (args.out, width, height, os.path.getsize(args.out)))


if __name__ == "__main__":
    sys.exit(main())
