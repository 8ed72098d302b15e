#!/usr/bin/env python3
"""Developer tool: torchvision models exported by PyTorch's two ONNX exporters,
run with onnxruntime and with clcnn, and a table of how they compare.

Needs torch, torchvision and onnxscript (CPU builds are enough) besides onnx,
onnxruntime and numpy, so it is not part of CI (torch is far too heavy); its
results are recorded in docs/exports.md, and every bug it found has a
regression test that CI runs without torch.

For each model (random weights from a fixed seed, nothing downloaded) and
each exporter:
    ts      torch.onnx.export(..., dynamo=False, opset_version=17)  (TorchScript)
    dynamo  torch.onnx.export(..., dynamo=True)  (torch.export, the exporter's
            default opset; weights may go to model.onnx.data beside the model)
    ts_fp16, dynamo_fp16  the same of model.half() with a float16 input (a few
            models only)
    ts_qdq  the ts export quantized by onnxruntime's quantize_static (QDQ format,
            int8 activations, per-channel int8 weights, calibrated on four seeded
            random inputs; a few models only)
it writes OUT/<model>_<exporter>/model.onnx and test_data_set_0/input_0.pb
(a seeded input), then onnxruntime's outputs on the CPU (every graph
optimisation off, tools/reference.py) as test_data_set_0/output_K.pb: the
ONNX backend-test layout that tests/conformance/node_tests.c --models reads.
Then it runs node_tests --models on each case for every --device and prints
one row per case: whether it exported, whether onnxruntime runs it, and for
each device the worst output's max|clcnn - ort| / max|ort| or the first
error message, with the wall time of the node_tests run (load, session,
one run).

BatchNormalization statistics are calibrated on two batches of random data
(train-mode forward passes with a cumulative average) before the export, so
activations keep a trained net's scale instead of growing with depth.

    python3 tools/export_torch_models.py --out /tmp/exports --build build
    python3 tools/export_torch_models.py --out /tmp/exports --models resnet18 \\
        --exporters ts --devices cpu          # one model, one exporter
    python3 tools/export_torch_models.py --out /tmp/exports --no-export  # rerun clcnn only
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402  (tools/reference.py: onnxruntime outputs)

SEED = 2025
TS_OPSET = 17

# name: (kind, input size (an int: square images; else the dims after the
# channels, as a video clip's frames, height, width), constructor arguments)
MODELS = {
    "resnet18": ("cls", 224, {}),
    "mobilenet_v2": ("cls", 224, {}),
    "mobilenet_v3_small": ("cls", 224, {}),
    "efficientnet_b0": ("cls", 224, {}),
    "squeezenet1_1": ("cls", 224, {}),
    "densenet121": ("cls", 224, {}),
    "shufflenet_v2_x0_5": ("cls", 224, {}),
    "regnet_y_400mf": ("cls", 224, {}),
    "convnext_tiny": ("cls", 224, {}),
    "vit_b_16": ("cls", 224, {}),
    "swin_t": ("cls", 224, {}),
    "googlenet": ("cls", 224, {"aux_logits": False, "init_weights": True}),
    "inception_v3": ("cls", 299, {"aux_logits": False, "init_weights": True}),
    "mnasnet0_5": ("cls", 224, {}),
    "maxvit_t": ("cls", 224, {}),
    "r3d_18": ("cls", (8, 112, 112), {}),  # video: Conv3d
    "lraspp_mobilenet_v3_large": ("seg", 224, {"weights_backbone": None}),
    "deeplabv3_mobilenet_v3_large": ("seg", 224, {"weights_backbone": None, "aux_loss": False}),
    "ssdlite320_mobilenet_v3_large": ("det", 320, {"weights_backbone": None}),
    "fasterrcnn_mobilenet_v3_large_320_fpn": ("det", 320, {"weights_backbone": None}),
    "retinanet_resnet50_fpn": ("det", 320, {"weights_backbone": None, "min_size": 320,
                                            "max_size": 320}),
    "maskrcnn_resnet50_fpn": ("det", 320, {"weights_backbone": None, "min_size": 320,
                                           "max_size": 320}),
}
FP16_MODELS = ["resnet18", "mobilenet_v2", "efficientnet_b0", "convnext_tiny", "vit_b_16",
               "lraspp_mobilenet_v3_large"]
QDQ_MODELS = ["resnet18", "mobilenet_v2", "efficientnet_b0", "squeezenet1_1", "densenet121",
              "convnext_tiny", "vit_b_16", "lraspp_mobilenet_v3_large"]
EXPORTERS = ["ts", "dynamo", "ts_fp16", "dynamo_fp16", "ts_qdq"]


def build(name, torch, torchvision):
    kind, size, kw = MODELS[name]
    dims = (3, size, size) if isinstance(size, int) else (3, *size)
    torch.manual_seed(SEED)
    model = torchvision.models.get_model(name, weights=None, **kw)
    # BatchNorm statistics of random data, as a trained net would have.
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if bns:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average
        calib = model.backbone if kind == "det" else model
        calib.train()
        g = torch.Generator().manual_seed(SEED + 1)
        with torch.no_grad():
            for _ in range(2):
                calib(torch.randn(2, *dims, generator=g))
    model.eval()
    # Layers that torchvision initialises to zero (ViT's classifier) would make
    # the output a constant: random weights there too.
    for mod in model.modules():
        if isinstance(mod, torch.nn.Linear) and not mod.weight.detach().any():
            torch.nn.init.normal_(mod.weight, std=0.05)
    if kind == "det" and name != "maskrcnn_resnet50_fpn":
        # (Mask R-CNN's ResNet-50 features make its scores saturate at 1.0 when
        # sharpened, and NMS's choice among equal scores then differs.)
        # Random class logits give near-uniform scores (about 1/91 each), whose
        # order is decided by rounding; sharper logits make the order of the
        # boxes kept a property of the model, not of the last bit.
        heads = []
        cls_head = getattr(getattr(model, "head", None), "classification_head", None)
        if hasattr(cls_head, "module_list"):  # SSD
            heads = [m[-1] if isinstance(m, torch.nn.Sequential) else m
                     for m in cls_head.module_list]
        elif hasattr(cls_head, "cls_logits"):  # RetinaNet
            heads = [cls_head.cls_logits]
        if hasattr(model, "roi_heads"):  # Faster R-CNN
            heads = [model.roi_heads.box_predictor.cls_score, model.rpn.head.cls_logits]
        with torch.no_grad():
            for h in heads:
                h.weight.mul_(8.0)
    if kind == "seg":  # the dict {"out": ...} as one tensor
        inner = model

        class Seg(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.m = inner

            def forward(self, x):
                return self.m(x)["out"]

        model = Seg().eval()
    elif kind == "det":  # the list of dicts as boxes, scores, labels of image 0
        inner = model

        class Det(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.m = inner

            def forward(self, x):
                d = self.m(x)[0]
                if "masks" in d:  # Mask R-CNN: pasted into the image in a Loop
                    return d["boxes"], d["scores"], d["labels"], d["masks"]
                return d["boxes"], d["scores"], d["labels"]

        model = Det().eval()
    return model, dims


def export(name, exporter, outdir, torch, torchvision):
    """Writes outdir/model.onnx and the seeded input; returns a note or raises."""
    model, dims = build(name, torch, torchvision)
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((1, *dims)).astype(np.float32)
    if MODELS[name][0] == "det":  # images in [0, 1], as the detectors expect
        x = rng.random((1, *dims)).astype(np.float32)
    fp16 = exporter.endswith("_fp16")
    if fp16:
        model = model.half()
        x = x.astype(np.float16)
    xt = torch.from_numpy(x)
    path = os.path.join(outdir, "model.onnx")
    os.makedirs(os.path.join(outdir, "test_data_set_0"), exist_ok=True)
    # The TorchScript exporter knows no aten::_native_multi_head_attention,
    # the fused kernel nn.MultiheadAttention takes in eval mode.
    torch.backends.mha.set_fastpath_enabled(False)
    with torch.no_grad():
        if exporter in ("ts", "ts_fp16", "ts_qdq"):
            torch.onnx.export(model, (xt,), path, dynamo=False, opset_version=TS_OPSET,
                              input_names=["input"], do_constant_folding=True)
        else:
            prog = torch.onnx.export(model, (xt,), path, dynamo=True, input_names=["input"])
            del prog
    if exporter == "ts_qdq":
        quantize(path, dims)
    m = onnx.load(path)
    inp = [i.name for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    t = numpy_helper.from_array(x, inp[0])
    with open(os.path.join(outdir, "test_data_set_0", "input_0.pb"), "wb") as f:
        f.write(t.SerializeToString())
    opset = max((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), default=0)
    ops = sorted({n.op_type for n in m.graph.node})
    return f"opset {opset}, {len(m.graph.node)} nodes", ops


def export_error(e):
    """The root cause of an exporter's exception, and where in the model's
    code torch.export stopped when it says so."""
    root = e
    while root.__cause__ is not None:
        root = root.__cause__
    text = str(root)
    msg = f"{type(root).__name__}: " + first_line(text.split("\n")[0], 160)
    where = re.search(r"Caused by: \(([^)]*)\)", text)
    return msg + (f" (at {where.group(1)})" if where else "")


def ort_int8_spread(case_dir, ref):
    """How far onnxruntime's own int8 kernels (every graph optimisation on:
    QLinearConv and friends in place of each DequantizeLinear -> Conv ->
    QuantizeLinear) land from its plain QDQ reference: rounding differences
    that each quantized layer can amplify, the scale an error of a QDQ model
    should be read against."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(os.path.join(case_dir, "model.onnx"), so,
                                providers=["CPUExecutionProvider"])
    _, x = load_pb(os.path.join(case_dir, "test_data_set_0", "input_0.pb"))
    got = sess.run(list(ref), {sess.get_inputs()[0].name: x})
    worst = max(float(np.abs(g - r).max()) / max(float(np.abs(r).max()), 1e-30)
                for g, r in zip(got, ref.values()))
    return f"its int8 kernels {worst:.2g}"


def quantize(path, dims):
    """Rewrites the float32 model at path as onnxruntime's QDQ int8 model."""
    import logging

    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    class Calibration(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(SEED + 2)
            self.data = iter([{"input": rng.standard_normal((1, *dims)).astype(np.float32)}
                              for _ in range(4)])

        def get_next(self):
            return next(self.data, None)

    logging.getLogger().setLevel(logging.ERROR)  # quantize_static's advice on pre-processing
    src = path + ".f32.onnx"
    os.replace(path, src)
    quantize_static(src, path, Calibration(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    os.remove(src)


def first_line(s, n=110):
    s = " ".join(s.strip().split())
    return s if len(s) <= n else s[: n - 3] + "..."


def run_clcnn(runner, case_dir, device, rtol, timeout):
    """One case through node_tests --models: (cell text, seconds)."""
    name = os.path.basename(case_dir)
    wrap = os.path.join(os.path.dirname(case_dir), ".run", name)
    os.makedirs(wrap, exist_ok=True)
    link = os.path.join(wrap, name)
    if not os.path.islink(link):
        os.symlink(os.path.abspath(case_dir), link)
    t0 = time.time()
    try:
        p = subprocess.run([runner, "--models", str(rtol), "--verbose", "--device", device, wrap],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timeout after {timeout} s", time.time() - t0
    dt = time.time() - t0
    out = p.stdout + p.stderr
    errs = [float(v) for v in re.findall(r"is ([0-9.eE+-]+|nan|inf) x max\|ref\|", out)]
    m = re.search(r"^(FAIL|skip) [^:]+: (.*)$", out, re.M)
    if errs and all(e == e for e in errs):
        cell = f"{max(errs):.2g}" + ("" if p.returncode == 0 else " FAIL")
        if p.returncode != 0 and m and "max error" not in m.group(2):
            cell += ": " + first_line(m.group(2))
        return cell, dt
    if m:
        return first_line(m.group(2)), dt
    if p.returncode not in (0, 1):
        return f"exit {p.returncode}: " + first_line(out[-300:]), dt
    return first_line(out[-200:]) or "no output", dt


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def match_detections(clcnn, case_dir, device, rtol, timeout):
    """Detectors' outputs (boxes [K, 4], scores [K], labels [K]) compared as
    sets: each of onnxruntime's detections must have its own one in clcnn's
    with the same label, the score within rtol x max score and the box within
    rtol x max|box|. Detections whose scores are equal to rounding come out
    in either order, which the element-wise comparison counts as wrong."""
    data = os.path.join(case_dir, "test_data_set_0")
    name, _ = load_pb(os.path.join(data, "input_0.pb"))
    with tempfile.TemporaryDirectory(prefix="clcnn_det.") as out:
        p = subprocess.run([clcnn, "run", os.path.join(case_dir, "model.onnx"), "--device", device,
                            "--input", f"{name}={os.path.join(data, 'input_0.pb')}",
                            "--output-dir", out], capture_output=True, text=True, timeout=timeout)
        if p.returncode:
            return "clcnn run: " + first_line(p.stderr or p.stdout)
        nout = len([f for f in os.listdir(data) if f.startswith("output_")])
        ref = [load_pb(os.path.join(data, f"output_{k}.pb")) for k in range(nout)]
        by_name = dict(load_pb(os.path.join(out, f)) for f in os.listdir(out))
        if any(n not in by_name for n, _ in ref):
            return "clcnn run wrote " + ", ".join(sorted(by_name))
        got = [by_name[n] for n, _ in ref]
    (rb, rs, rl), (gb, gs, gl) = [r for _, r in ref[:3]], got[:3]
    rm, gm = (ref[3][1], got[3]) if nout > 3 else (None, None)  # Mask R-CNN's masks
    if rb.shape != gb.shape:
        return f"{gb.shape[0]} detections, onnxruntime {rb.shape[0]}"
    stol = rtol * max(float(np.abs(rs).max(initial=0)), 1e-30)
    btol = rtol * max(float(np.abs(rb).max(initial=0)), 1e-30)
    free = np.ones(len(gs), bool)
    serr = berr = merr = 0.0
    moved = 0
    mscale = max(float(np.abs(rm).max(initial=0)), 1e-30) if rm is not None else 1.0
    for i in range(len(rs)):
        ok = free & (gl == rl[i]) & (np.abs(gs - rs[i]) <= stol) & \
            (np.abs(gb - rb[i]).max(axis=1, initial=0) <= btol)
        if not ok.any():
            return f"detection {i} (label {rl[i]}, score {rs[i]:.4g}) has no match"
        j = i if ok[i] else int(np.argmax(ok))  # the same position when it matches
        moved += j != i
        free[j] = False
        serr = max(serr, abs(float(gs[j] - rs[i])) / stol * rtol)
        berr = max(berr, float(np.abs(gb[j] - rb[i]).max(initial=0)) / btol * rtol)
        if rm is not None:
            merr = max(merr, float(np.abs(gm[j] - rm[i]).max(initial=0)) / mscale)
    masks = f", masks {merr:.2g}" if rm is not None else ""
    order = f"; {moved} in another order (tied scores)" if moved else "; same order"
    return f"{max(serr, berr):.2g} as sets ({len(rs)} detections{masks}{order})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="directory for the cases")
    ap.add_argument("--build", default="build", help="meson build dir with tests/node_tests")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--exporters", default=",".join(EXPORTERS))
    ap.add_argument("--devices", default="cpu,opencl:0")
    ap.add_argument("--rtol", type=float, default=1e-3, help="float32 tolerance (x max|ref|)")
    ap.add_argument("--rtol-fp16", type=float, default=2e-2)
    ap.add_argument("--rtol-qdq", type=float, default=2e-2)
    ap.add_argument("--timeout", type=int, default=900, help="seconds per node_tests run")
    ap.add_argument("--no-export", action="store_true", help="reuse the cases already in --out")
    ap.add_argument("--no-run", action="store_true", help="export only")
    a = ap.parse_args()

    runner = os.path.join(a.build, "tests", "node_tests")
    clcnn = os.path.join(a.build, "tools", "clcnn")
    if not a.no_run and not os.access(runner, os.X_OK):
        sys.exit(f"{runner} not found: build clcnn first (meson setup build && ninja -C build)")
    if not a.no_export:
        import torch
        import torchvision
        torch.set_num_threads(max(1, (os.cpu_count() or 2)))
    else:
        torch = torchvision = None
    devices = [d for d in a.devices.split(",") if d]
    rows = []
    for name in [m for m in a.models.split(",") if m]:
        if name not in MODELS:
            sys.exit(f"unknown model {name}; known: {', '.join(MODELS)}")
        for exp in [e for e in a.exporters.split(",") if e]:
            if exp.endswith("_fp16") and name not in FP16_MODELS:
                continue
            if exp.endswith("_qdq") and name not in QDQ_MODELS:
                continue
            case = f"{name}_{exp}"
            cdir = os.path.join(a.out, case)
            row = {"case": case, "model": name, "exporter": exp, "note": "", "ort": "", "dev": {}}
            rows.append(row)
            if not a.no_export:
                shutil.rmtree(cdir, ignore_errors=True)
                t0 = time.time()
                try:
                    note, ops = export(name, exp, cdir, torch, torchvision)
                    row["note"] = f"{note} ({time.time() - t0:.0f} s)"
                except Exception as e:  # recorded in the table
                    row["note"] = "export failed: " + export_error(e)
                    traceback.print_exc(limit=3)
                    print(f"{case}: {row['note']}", flush=True)
                    continue
                t0 = time.time()
                try:
                    outs = reference.run_case(os.path.join(cdir, "model.onnx"),
                                              os.path.join(cdir, "test_data_set_0"))
                    row["ort"] = f"ok ({time.time() - t0:.1f} s)"
                    if exp.endswith("_qdq"):
                        row["ort"] += "; " + ort_int8_spread(cdir, outs)
                    flat = [o for o in outs.values() if o.size and o.dtype.kind == "f"]
                    if flat and all(float(o.max()) == float(o.min()) for o in flat):
                        row["ort"] += ", but every output is constant"
                except Exception as e:
                    row["ort"] = "onnxruntime failed: " + first_line(f"{e}", 200)
                print(f"{case}: {row['note']}; onnxruntime {row['ort']}; ops {','.join(ops)}",
                      flush=True)
            elif not os.path.exists(os.path.join(cdir, "test_data_set_0", "output_0.pb")):
                row["note"] = "no case (export or onnxruntime failed)"
                continue
            else:
                row["ort"] = "ok"
            if a.no_run or not row["ort"].startswith("ok"):
                continue
            rtol = a.rtol_fp16 if exp.endswith("fp16") else a.rtol_qdq if exp.endswith("qdq") \
                else a.rtol
            for dev in devices:
                cell, dt = run_clcnn(runner, cdir, dev, rtol, a.timeout)
                if MODELS[name][0] == "det" and "FAIL" in cell and "differ" in cell:
                    m = match_detections(clcnn, cdir, dev, rtol, a.timeout)
                    cell = (m + f"; element-wise {cell.split()[0]}"
                            if "as sets" in m else cell + " / " + m)
                row["dev"][dev] = f"{cell} ({dt:.1f} s)"
                print(f"{case} on {dev}: {row['dev'][dev]}", flush=True)

    print()
    head = ["model", "exporter", "export", "onnxruntime"] + [f"clcnn {d}" for d in devices]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r["model"], r["exporter"], r["note"], r["ort"]]
        cells += [r["dev"].get(d, "") for d in devices]
        print("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
