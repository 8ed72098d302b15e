#!/usr/bin/env python3
"""Compute reference outputs with onnxruntime for ONNX backend-test-style cases.

For each case (a directory holding model.onnx and test_data_set_*/input_*.pb)
this runs onnxruntime on the CPU with every graph optimisation disabled (no
fusions, no approximated kernels: the closest thing to a plain per-node
reference) and writes test_data_set_*/output_<i>.pb, one TensorProto per
graph output, named after that output.

    python3 tools/reference.py ZOO_DIR...        # every ZOO_DIR/*/model.onnx
    python3 tools/reference.py ZOO_DIR/resnet18_op13   # one case
    python3 tools/reference.py examples/sample_cnn.onnx  # NAME.onnx + NAME/test_data_set_*
    python3 tools/reference.py --activations DIR # also report intermediate ranges
"""

import argparse
import glob
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def load_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def _sorted_pb(data_dir, prefix):
    files = glob.glob(os.path.join(data_dir, f"{prefix}_*.pb"))
    return sorted(files, key=lambda p: int(os.path.basename(p)[len(prefix) + 1:-3]))


def _session(model_bytes, threads=0):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if threads:
        so.intra_op_num_threads = threads
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def read_inputs(model, data_dir):
    """Map input_<i>.pb files to graph input names.

    The TensorProto name wins when it matches a graph input; otherwise fall
    back to position among the non-initializer graph inputs.
    """
    inits = {t.name for t in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in inits]
    feeds = {}
    for i, p in enumerate(_sorted_pb(data_dir, "input")):
        name, arr = load_tensor(p)
        feeds[name if name in names else names[i]] = arr
    return feeds


def run_case(model_path, data_dir, write=True, threads=0):
    """Run one model on data_dir/input_*.pb; write output_<i>.pb; return outputs."""
    model = onnx.load(model_path)
    feeds = read_inputs(model, data_dir)
    sess = _session(model.SerializeToString(), threads)
    out_names = [o.name for o in sess.get_outputs()]
    outs = sess.run(out_names, feeds)
    if write:
        # Every graph output, in graph order (what get_outputs() lists), each
        # named after its output; stale files of an earlier, longer output
        # list would make the case's output count wrong, so they go.
        assert len(out_names) == len(model.graph.output), "onnxruntime dropped an output"
        for p in _sorted_pb(data_dir, "output")[len(out_names):]:
            os.remove(p)
        for i, (name, arr) in enumerate(zip(out_names, outs)):
            t = numpy_helper.from_array(np.ascontiguousarray(arr), name)
            with open(os.path.join(data_dir, f"output_{i}.pb"), "wb") as f:
                f.write(t.SerializeToString())
    return dict(zip(out_names, outs))


def activation_ranges(model_path, data_dir):
    """Expose every node output as a graph output and return {name: array}.

    Used to check that random weights keep activations in a sane range.
    """
    model = onnx.load(model_path)
    model = onnx.shape_inference.infer_shapes(model)
    have = {o.name for o in model.graph.output}
    for n in model.graph.node:
        for o in n.output:
            if o and o not in have:
                model.graph.output.append(onnx.ValueInfoProto(name=o))
                have.add(o)
    feeds = read_inputs(model, data_dir)
    sess = _session(model.SerializeToString())
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def describe(arr):
    a = arr.astype(np.float64)
    return (f"shape={list(arr.shape)} min={a.min():.4g} max={a.max():.4g} "
            f"mean={a.mean():.4g} std={a.std():.4g}")


def sanity_problems(arr):
    """Reasons why an output would make a poor reference (empty list if fine)."""
    probs = []
    if not np.all(np.isfinite(arr)):
        probs.append("non-finite values")
    elif arr.size > 1 and float(np.ptp(arr)) == 0.0:
        probs.append("constant" + (" zero" if not arr.any() else ""))
    return probs


def find_cases(paths):
    cases = []
    for p in paths:
        if os.path.isfile(p) and p.endswith(".onnx"):
            cases.append(p)
        elif os.path.isfile(os.path.join(p, "model.onnx")):
            cases.append(os.path.join(p, "model.onnx"))
        else:
            cases.extend(sorted(glob.glob(os.path.join(p, "*", "model.onnx"))))
    return cases


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write onnxruntime reference outputs "
                                 "(output_<i>.pb) for ONNX test cases.")
    ap.add_argument("paths", nargs="+", help="zoo dirs, case dirs or model.onnx files")
    ap.add_argument("--activations", action="store_true",
                    help="also report the range of every intermediate tensor")
    ap.add_argument("--threads", type=int, default=0, help="ORT intra-op threads (0 = default)")
    a = ap.parse_args(argv)

    cases = find_cases(a.paths)
    if not cases:
        print("no model.onnx found under: " + " ".join(a.paths), file=sys.stderr)
        return 2
    failed = 0
    for model_path in cases:
        case = os.path.dirname(model_path) or "."
        sets = sorted(glob.glob(os.path.join(case, "test_data_set_*")))
        if not sets:  # examples/ layout: NAME.onnx beside NAME/test_data_set_*
            stem = os.path.splitext(model_path)[0]
            sets = sorted(glob.glob(os.path.join(stem, "test_data_set_*")))
        if not sets:
            print(f"{case}: no test_data_set_* directory, skipped", file=sys.stderr)
            failed += 1
            continue
        for data_dir in sets:
            t0 = time.time()
            try:
                outs = run_case(model_path, data_dir, threads=a.threads)
            except Exception as e:  # keep going: report and count
                print(f"FAIL {data_dir}: {e}", file=sys.stderr)
                failed += 1
                continue
            dt = time.time() - t0
            for name, arr in outs.items():
                probs = sanity_problems(arr)
                failed += bool(probs)
                flag = "  !! " + ", ".join(probs) if probs else ""
                print(f"{os.path.relpath(data_dir)} {name}: {describe(arr)} ({dt:.2f}s){flag}")
            if a.activations:
                acts = activation_ranges(model_path, data_dir)
                absmax = {k: float(np.abs(v).max()) for k, v in acts.items() if v.size}
                worst = max(absmax, key=absmax.get)
                bad = [k for k, v in acts.items() if v.size and not np.all(np.isfinite(v))]
                print(f"    {len(acts)} tensors, max |x| = {absmax[worst]:.4g} at {worst}"
                      + (f", non-finite in {len(bad)}" if bad else ""))
                stds = [float(v.std()) for v in acts.values() if v.size > 1]
                print(f"    per-tensor std: min={min(stds):.3g} median={np.median(stds):.3g} "
                      f"max={max(stds):.3g}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
