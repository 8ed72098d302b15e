#!/usr/bin/env python3
"""ONNX node test cases through the `clcnn run` command line, as a user runs them.

    cli_node_cases.py CLCNN NODE_DIR [--device D] [--report RUNNER_TSV] [-v] [PATTERN ...]

Each case (NODE_DIR/test_*/model.onnx with test_data_set_N/{input,output}_K.pb)
runs once per data set as

    clcnn run model.onnx --device D --input NAME=input_K.pb ... --output-dir OUT

and every output file the CLI writes is compared with ONNX's expected output
(by the tensor's name, else by position): same dtype and shape, floats within
ONNX's backend-test tolerance (|got - want| <= 1e-5 + 1e-3 |want|, NaN = NaN),
everything else exactly. Inputs that decide shapes (Reshape's shape, Slice's
starts, Resize's sizes...) are fed like any other --input: the CLI binds them
as constants of the session itself.

PATTERNs (shell globs on the case name, e.g. 'test_reshape_*') pick the cases;
with --report, the cases the C runner (node_tests --report) passed are run
instead, which counts how many of them also pass through the CLI. Exit 0 when
every case run passes, 1 otherwise, 77 when NODE_DIR or the onnx/numpy Python
packages are missing.
"""
import fnmatch
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def compare(got, want):
    if got.dtype != want.dtype:
        return f"dtype {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}"
    # bfloat16 (ml_dtypes, numpy kind "V") compares as a float too, to one
    # unit of its 8-bit mantissa.
    bf16 = want.dtype.name == "bfloat16"
    if want.dtype.kind == "f" or bf16:
        g = got.astype(np.float64)
        w = want.astype(np.float64)
        both_nan = np.isnan(g) & np.isnan(w)
        same_inf = np.isinf(w) & (g == w)
        rtol = 8e-3 if bf16 else 1e-3
        with np.errstate(invalid="ignore"):  # inf - inf: same_inf decides
            ok = (np.abs(g - w) <= 1e-5 + rtol * np.abs(w)) | both_nan | same_inf
        if not ok.all():
            i = int(np.argmin(ok.reshape(-1)))
            return f"element {i} is {g.reshape(-1)[i]:.8g}, expected {w.reshape(-1)[i]:.8g}"
        return None
    # The float8 and float4 types (ml_dtypes) compare as their values,
    # exactly: the sign of zero counts, any NaN matches any NaN.
    if want.dtype.name.startswith(("float8", "float4")):
        g = got.astype(np.float64).reshape(-1)
        w = want.astype(np.float64).reshape(-1)
        ok = (np.isnan(g) & np.isnan(w)) | ((g == w) & (np.signbit(g) == np.signbit(w)))
        if not ok.all():
            i = int(np.argmin(ok))
            return f"element {i} is {g[i]:.8g}, expected {w[i]:.8g}"
        return None
    if not np.array_equal(got, want):
        i = int(np.argmin((got == want).reshape(-1)))
        return f"element {i} is {got.reshape(-1)[i]}, expected {want.reshape(-1)[i]}"
    return None


def run_case(clcnn, case_dir, device, tmp):
    model = onnx.load(os.path.join(case_dir, "model.onnx"), load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in inits]
    outputs = [o.name for o in model.graph.output]
    sets = sorted(d for d in os.listdir(case_dir) if d.startswith("test_data_set_"))
    if not sets:
        return "no test data"
    for s in sets:
        sdir = os.path.join(case_dir, s)
        nin = len([f for f in os.listdir(sdir) if f.startswith("input_")])
        if nin != len(inputs):
            return f"{s}: {nin} input files for {len(inputs)} inputs"
        out_dir = tempfile.mkdtemp(dir=tmp)
        cmd = [clcnn, "run", os.path.join(case_dir, "model.onnx"), "--device", device,
               "--output-dir", out_dir]
        for k, name in enumerate(inputs):
            cmd += ["--input", f"{name}={os.path.join(sdir, f'input_{k}.pb')}"]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=300)
        if r.returncode != 0:
            msg = (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
            return f"{s}: clcnn run: {msg}"
        got = {}
        for f in os.listdir(out_dir):
            name, arr = load_pb(os.path.join(out_dir, f))
            got[name] = arr
        want = []
        k = 0
        while os.path.exists(os.path.join(sdir, f"output_{k}.pb")):
            want.append(load_pb(os.path.join(sdir, f"output_{k}.pb")))
            k += 1
        by_name = sorted(n for n, _ in want) == sorted(outputs)
        for k, (wname, warr) in enumerate(want):
            oname = wname if by_name else outputs[k]
            if oname not in got:
                return f"{s}: no output '{oname}' was written"
            why = compare(got[oname], warr)
            if why:
                return f"{s}: output '{oname}': {why}"
    return None


def main(argv):
    args = []
    device, report, verbose = "cpu", None, False
    i = 0
    while i < len(argv):
        if argv[i] == "--device":
            device = argv[i + 1]
            i += 2
        elif argv[i] == "--report":
            report = argv[i + 1]
            i += 2
        elif argv[i] == "-v":
            verbose = True
            i += 1
        else:
            args.append(argv[i])
            i += 1
    if len(args) < 2:
        print(__doc__)
        return 2
    clcnn, node_dir, patterns = args[0], args[1], args[2:]
    if not os.path.isdir(node_dir):
        print(f"SKIP: no ONNX node test data at '{node_dir}'")
        return 77
    names = sorted(d for d in os.listdir(node_dir) if d.startswith("test_"))
    if report:
        with open(report) as f:
            passed = {line.split("\t")[0] for line in f if line.split("\t")[1:2] == ["pass"]}
        names = [n for n in names if n in passed]
    if patterns:
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]
    if not names:
        print("no case matches")
        return 1
    npass = 0
    failed = []
    with tempfile.TemporaryDirectory(prefix="clcnn_node_cli.") as tmp:
        for n in names:
            why = run_case(clcnn, os.path.join(node_dir, n), device, tmp)
            if why:
                failed.append(n)
                print(f"FAIL {n}: {why}")
            else:
                npass += 1
                if verbose:
                    print(f"pass {n}")
            sys.stdout.flush()
    print(f"clcnn run on device {device}: {npass} of {len(names)} node cases pass")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
