#!/usr/bin/env python3
"""Benchmark clcnn against onnxruntime (CPU) on the same models.

For every model (a case dir with model.onnx, a model.onnx file, or a zoo dir
holding many cases) this alternates, for --rounds rounds:
    * onnxruntime, CPUExecutionProvider, full graph optimisations,
      intra_op_num_threads = --threads, --warmup + --runs timed runs;
    * `clcnn bench MODEL --device D --runs N --warmup N --json FILE` for each
      entry of --devices.
Both time the same input: by default (--inputs clcnn) onnxruntime gets the
pseudo-random tensors that `clcnn bench` and `clcnn run` make (splitmix64,
seed 0x5eed * input index, floats uniform in [-1, 1), open dims 1);
--inputs test-data uses the case's test_data_set_0 instead, for onnxruntime
only (clcnn bench has no --input). Both use every CPU by default: clcnn's CPU
backend takes one thread per online CPU, so --threads other than
os.cpu_count() makes the comparison unequal (a warning says so).
The ratio is clcnn / onnxruntime (median over median): below 1, clcnn is faster.
Alternating rounds spreads thermal/frequency drift and background noise over
both runtimes instead of penalising whichever runs second. The reported value
per runtime is the median of the per-round medians.

    python3 tools/peer_bench.py /tmp/zoo --devices cpu,gpu --runs 20 \\
        --markdown bench.md --plot bench.png
    python3 tools/peer_bench.py build/zoo --models resnet18,mobilenetv2 ...

--markdown rewrites the file's generated part and keeps, word for word,
everything from a line "<!-- notes: ... -->" (NOTES_MARKER) to the end: put
hand-written commentary there. --plot needs matplotlib; without it the plot
is skipped with a message and everything else is written.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402  (sibling module: case discovery, input loading)

_NP_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16,
             "tensor(double)": np.float64, "tensor(int64)": np.int64,
             "tensor(int32)": np.int32, "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_}


def case_name(model_path):
    d = os.path.dirname(os.path.abspath(model_path))
    if os.path.basename(model_path) == "model.onnx":
        return os.path.basename(d)
    return os.path.splitext(os.path.basename(model_path))[0]


def _splitmix64(seed, n):
    """The first n outputs of splitmix64 from state `seed` (tools/cli_input.c)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def clcnn_feeds(sess):
    """The pseudo-random inputs `clcnn bench` (and `clcnn run` without
    --input) feeds the model: input i from seed 0x5eed * i, open dims 1;
    floats uniform in [-1, 1), integers in [0, 10), bools 0/1, float16 1.0."""
    feeds = {}
    for i, inp in enumerate(sess.get_inputs()):
        shape = [s if isinstance(s, int) and s >= 0 else 1 for s in inp.shape]
        n = int(np.prod(shape, dtype=np.int64))
        r = _splitmix64((0x5EED * i) % (1 << 64), n)
        dt = _NP_TYPES.get(inp.type, np.float32)
        if dt in (np.float32, np.float64):
            u = (r >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
            a = (2 * u - 1).astype(dt)
        elif dt is np.bool_:
            a = (r & np.uint64(1)).astype(np.bool_)
        elif dt is np.float16:
            a = np.ones(n, np.float16)
        else:
            a = (r % np.uint64(10)).astype(dt)
        feeds[inp.name] = a.reshape(shape)
    return feeds


def load_feeds(model_path, sess, source="clcnn"):
    """source "clcnn": the inputs `clcnn bench` uses (clcnn_feeds).
    "test-data": test_data_set_0 next to the model (zoo layout, or the
    examples/<name>/ layout used by sample_cnn.onnx), else clcnn's."""
    if source == "clcnn":
        return clcnn_feeds(sess)
    d = os.path.dirname(os.path.abspath(model_path))
    for data_dir in (os.path.join(d, "test_data_set_0"),
                     os.path.join(d, case_name(model_path), "test_data_set_0")):
        if os.path.isdir(data_dir):
            return reference.read_inputs(onnx.load(model_path, load_external_data=False), data_dir)
    return clcnn_feeds(sess)


def ort_session(model_path, threads):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    return ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])


def time_ort(sess, feeds, runs, warmup):
    for _ in range(warmup):
        sess.run(None, feeds)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        ts.append((time.perf_counter() - t0) * 1e3)
    return ts


def run_clcnn(clcnn, model_path, device, runs, warmup, timeout):
    """Run `clcnn bench` once; return (result dict, None) or (None, error text)."""
    fd, json_path = tempfile.mkstemp(prefix="clcnn_bench_", suffix=".json")
    os.close(fd)
    cmd = [clcnn, "bench", model_path, "--device", device, "--runs", str(runs),
           "--warmup", str(warmup), "--json", json_path]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        res = None
        try:
            with open(json_path) as f:
                res = json.load(f)
        except (OSError, ValueError):
            if p.returncode == 0:
                raise
        if isinstance(res, list):  # `clcnn bench --json` writes one object per device
            res = res[0] if res and isinstance(res[0], dict) else {}
        if p.returncode != 0 or (res and res.get("error")):
            if res and res.get("error"):  # the session's own message
                return None, f"exit {p.returncode}: {res['error'][:240]}"
            tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-1:] or [""]
            if p.returncode < 0:
                return None, f"killed by signal {-p.returncode}: {tail[0][:160]}"
            return None, f"exit {p.returncode}: {tail[0][:240]}"
        missing = [k for k in ("median_ms", "min_ms", "max_ms") if k not in res]
        if missing:
            return None, "JSON lacks " + ",".join(missing)
        return res, None
    except FileNotFoundError:
        return None, f"not found: {clcnn}"
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout}s"
    except (OSError, ValueError) as e:  # unreadable / malformed JSON
        return None, f"{type(e).__name__}: {e}"
    finally:
        try:
            os.unlink(json_path)
        except OSError:
            pass


def bench_model(model_path, a, devices):
    """Return a list of row dicts (one per device) for one model."""
    name = case_name(model_path)
    try:
        sess = ort_session(model_path, a.threads)
        feeds = load_feeds(model_path, sess, a.inputs)
        ort_err = None
    except Exception as e:  # keep going: clcnn may still run it
        sess, ort_err = None, f"onnxruntime: {type(e).__name__}: {str(e).splitlines()[0][:160]}"

    ort_rounds, ort_all = [], []
    cl = {d: {"rounds": [], "mins": [], "maxs": [], "device_name": None, "error": None}
          for d in devices}
    for _ in range(a.rounds):
        if sess is not None:
            try:
                ts = time_ort(sess, feeds, a.runs, a.warmup)
                ort_rounds.append(statistics.median(ts))
                ort_all.extend(ts)
            except Exception as e:
                ort_err = f"onnxruntime: {type(e).__name__}: {str(e).splitlines()[0][:160]}"
                sess = None
        for d in devices:
            st = cl[d]
            if st["error"]:
                continue  # a failure is not retried in later rounds
            res, err = run_clcnn(a.clcnn, model_path, d, a.runs, a.warmup, a.timeout)
            if err:
                st["error"] = err
                continue
            st["rounds"].append(float(res["median_ms"]))
            st["mins"].append(float(res["min_ms"]))
            st["maxs"].append(float(res["max_ms"]))
            st["device_name"] = str(res.get("device", d))

    ort_med = statistics.median(ort_rounds) if ort_rounds else None
    rows = []
    for d in devices:
        st = cl[d]
        med = statistics.median(st["rounds"]) if st["rounds"] else None
        rows.append({
            "model": name, "device": d, "device_name": st["device_name"] or "",
            "clcnn_median_ms": med,
            "clcnn_min_ms": min(st["mins"]) if st["mins"] else None,
            "clcnn_max_ms": max(st["maxs"]) if st["maxs"] else None,
            "clcnn_round_medians_ms": st["rounds"],
            "ort_median_ms": ort_med,
            "ort_min_ms": min(ort_all) if ort_all else None,
            "ort_round_medians_ms": ort_rounds,
            "ratio": (med / ort_med) if (med is not None and ort_med) else None,
            "error": "; ".join(e for e in (st["error"], ort_err) if e),
        })
    return rows


def _fmt(v, nd=2):
    return "-" if v is None else f"{v:.{nd}f}"


HEADER = ["model", "device", "clcnn median ms", "clcnn min ms", "ort median ms",
          "ort min ms", "clcnn/ort", "note"]


def table_cells(rows):
    out = []
    for r in rows:
        note = r["error"] or r["device_name"]
        out.append([r["model"], r["device"], _fmt(r["clcnn_median_ms"]), _fmt(r["clcnn_min_ms"]),
                    _fmt(r["ort_median_ms"]), _fmt(r["ort_min_ms"]), _fmt(r["ratio"], 3), note])
    return out


def print_table(rows):
    cells = [HEADER] + table_cells(rows)
    w = [max(len(c[i]) for c in cells) for i in range(len(HEADER) - 1)]
    for k, c in enumerate(cells):
        print("  ".join(c[i].ljust(w[i]) if i < 2 else c[i].rjust(w[i])
                        for i in range(len(w))) + "  " + c[-1])
        if k == 0:
            print("  ".join("-" * x for x in w) + "  " + "-" * 4)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


NOTES_MARKER = "<!-- notes: hand-written below this line; kept by tools/peer_bench.py --markdown -->"


def _kept_notes(path):
    """Everything from NOTES_MARKER to the end of an existing page ("" if none)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return ""
    k = text.find(NOTES_MARKER)
    return text[k:] if k >= 0 else ""


def clcnn_version(clcnn):
    try:
        p = subprocess.run([clcnn, "--version"], capture_output=True, text=True, timeout=30)
        return p.stdout.strip() if p.returncode == 0 else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def write_markdown(path, rows, a, command):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    notes = _kept_notes(path)
    inputs = ("the pseudo-random inputs `clcnn bench` makes (same values for both)"
              if a.inputs == "clcnn" else
              "test_data_set_0 for onnxruntime, `clcnn bench`'s pseudo-random inputs for clcnn")
    lines = [
        "<!-- Generated by tools/peer_bench.py --markdown: do not edit above the notes "
        "marker; rerun the command below. -->", "",
        "# clcnn vs onnxruntime", "",
        "*Generated by `tools/peer_bench.py`; do not edit by hand (hand-written notes go "
        "below the notes marker at the end, which the script keeps).*", "",
        f"- Date: {now}",
        f"- Command: `{command}`",
        f"- {getattr(a, 'version', None) or clcnn_version(a.clcnn)}; inputs: {inputs}",
        f"- Host: {platform.node()}, {cpu_model()}, {os.cpu_count()} logical CPUs, "
        f"{platform.system()} {platform.release()}; 1-minute load average "
        f"{getattr(a, 'load_start', '?')} at the start, {getattr(a, 'load_end', loadavg())} at the end (other work on the host "
        "slows both runtimes and widens the min-median gap)",
        f"- onnxruntime {ort.__version__} (CPUExecutionProvider, ORT_ENABLE_ALL, "
        f"intra_op_num_threads={a.threads})",
        f"- {a.rounds} alternating rounds x ({a.warmup} warmup + {a.runs} timed runs); "
        "value = median of per-round medians; ratio < 1 means clcnn is faster", "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * 5 + ["---"]) + "|",
    ]
    for c in table_cells(rows):
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in c) + " |")
    lines += ["", notes.rstrip("\n") if notes else NOTES_MARKER]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_plot(path, rows, a):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"--plot: matplotlib is not installed, {path} not written "
              "(pip install matplotlib)", file=sys.stderr)
        return False
    models = list(dict.fromkeys(r["model"] for r in rows))
    devices = list(dict.fromkeys(r["device"] for r in rows))
    ratio = {(r["model"], r["device"]): r["ratio"] for r in rows}
    width = 0.8 / max(1, len(devices))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(models) * max(1, len(devices))), 4.5))
    for k, d in enumerate(devices):
        xs = [i + (k - (len(devices) - 1) / 2) * width for i in range(len(models))]
        ys = [ratio.get((m, d)) or 0.0 for m in models]  # failed runs show as empty
        ax.bar(xs, ys, width, label=d)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels(models, rotation=30, ha="right")
    ax.set_ylabel("clcnn / onnxruntime time (lower is better)")
    ax.set_title(f"clcnn vs onnxruntime CPU ({a.threads} threads)")
    ax.legend(title="clcnn device")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def snapshot(clcnn, tmpdir):
    """A private copy of the clcnn binary, so that a rebuild in the middle of
    a run (the build tree is shared) neither breaks calls nor mixes versions.
    Retries while the file is being relinked; returns clcnn itself if no copy
    could be made to work (e.g. a dynamically linked build)."""
    dst = os.path.join(tmpdir, "clcnn")
    for _ in range(10):
        try:
            shutil.copy2(clcnn, dst)
            p = subprocess.run([dst, "--version"], capture_output=True, text=True, timeout=30)
            if p.returncode == 0:
                return dst
        except (OSError, subprocess.TimeoutExpired):
            pass
        time.sleep(3)
    return clcnn


def loadavg():
    try:
        return "%.2f" % os.getloadavg()[0]
    except OSError:
        return "?"


def main(argv=None):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description="Compare `clcnn bench` with onnxruntime CPU.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("paths", nargs="+", help="case dirs, model.onnx files or zoo dirs")
    ap.add_argument("--clcnn", default=os.path.join(root, "build", "tools", "clcnn"),
                    help="clcnn binary (default: build/tools/clcnn)")
    ap.add_argument("--devices", default="cpu", help="comma-separated clcnn --device values")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per round (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="warmup runs per round (default 2)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="onnxruntime intra-op threads (default: all CPUs, as clcnn's "
                    "CPU backend uses)")
    ap.add_argument("--inputs", choices=("clcnn", "test-data"), default="clcnn",
                    help="onnxruntime's inputs: clcnn (default; the values `clcnn bench` "
                    "uses) or test-data (the case's test_data_set_0)")
    ap.add_argument("--models", help="comma-separated model names (or substrings of them) "
                    "to keep from the paths, e.g. resnet18_op13,mobilenetv2")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per clcnn call")
    ap.add_argument("--plot", metavar="FILE.png", help="bar chart of the ratios (matplotlib)")
    ap.add_argument("--markdown", metavar="FILE.md", help="write the table as Markdown")
    ap.add_argument("--json", metavar="FILE.json", help="write all raw results as JSON")
    a = ap.parse_args(argv)
    if min(a.runs, a.rounds, a.threads) < 1 or a.warmup < 0:
        ap.error("--runs, --rounds, --threads must be >= 1 and --warmup >= 0")
    command = "python3 " + shlex.join(sys.argv if argv is None else [sys.argv[0]] + argv)

    cases = reference.find_cases(a.paths)
    if a.models:
        keep = [m.strip() for m in a.models.split(",") if m.strip()]
        names = {case_name(c) for c in cases}
        # An exact name picks that model only; anything else is a substring.
        cases = [c for c in cases
                 if any(k == case_name(c) or (k not in names and k in case_name(c))
                        for k in keep)]
    if not cases:
        print("no model found under: " + " ".join(a.paths), file=sys.stderr)
        return 2
    devices = [d.strip() for d in a.devices.split(",") if d.strip()]
    if a.threads != os.cpu_count():
        print(f"warning: onnxruntime gets {a.threads} threads but clcnn's CPU backend uses "
              f"all {os.cpu_count()} CPUs: the comparison is not like for like",
              file=sys.stderr)
    if not os.path.exists(a.clcnn):
        print(f"warning: {a.clcnn} does not exist; only onnxruntime will be timed",
              file=sys.stderr)

    a.load_start = loadavg()
    tmpdir = tempfile.mkdtemp(prefix="peer_bench_")
    clcnn_path, a.clcnn = a.clcnn, (snapshot(a.clcnn, tmpdir) if os.path.exists(a.clcnn)
                                    else a.clcnn)
    rows = []
    for model_path in cases:
        t0 = time.time()
        r = bench_model(model_path, a, devices)
        rows.extend(r)
        for x in r:
            print(f"[{time.time() - t0:6.1f}s] {x['model']} {x['device']}: "
                  f"clcnn {_fmt(x['clcnn_median_ms'])} ms, ort {_fmt(x['ort_median_ms'])} ms"
                  + (f"  ({x['error']})" if x["error"] else ""), file=sys.stderr, flush=True)

    a.load_end = loadavg()
    if a.markdown:  # the version line: the binary that ran, before it goes
        a.version = clcnn_version(a.clcnn)
    a.clcnn = clcnn_path
    shutil.rmtree(tmpdir, ignore_errors=True)
    print_table(rows)
    if a.markdown:
        write_markdown(a.markdown, rows, a, command)
        print(f"wrote {a.markdown}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"command": command, "threads": a.threads, "runs": a.runs,
                       "warmup": a.warmup, "rounds": a.rounds,
                       "onnxruntime": ort.__version__, "rows": rows}, f, indent=2)
        print(f"wrote {a.json}")
    if a.plot and write_plot(a.plot, rows, a):
        print(f"wrote {a.plot}")
    return 0 if all(not r["error"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
