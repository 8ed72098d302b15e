#!/usr/bin/env python3
"""Benchmark clcnn against onnxruntime (CPU) on the same models.

For every model (a case dir with model.onnx, a model.onnx file, or a zoo dir
holding many cases) this alternates, for --rounds rounds:
    * onnxruntime, CPUExecutionProvider, full graph optimisations,
      intra_op_num_threads = --threads, --warmup + --runs timed runs on the
      case's test_data_set_0 inputs (random ones if the case has none);
    * `clcnn bench MODEL --device D --runs N --warmup N --json FILE` for each
      entry of --devices.
Alternating rounds spreads thermal/frequency drift and background noise over
both runtimes instead of penalising whichever runs second. The reported value
per runtime is the median of the per-round medians.

    python3 tools/peer_bench.py /tmp/zoo --devices cpu,gpu --runs 20 \\
        --markdown bench.md --plot bench.png
"""

import argparse
import datetime
import json
import os
import platform
import shlex
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


def load_feeds(model_path, sess):
    """Inputs from test_data_set_0 next to the model (zoo layout, or the
    examples/<name>/ layout used by sample_cnn.onnx); random otherwise."""
    d = os.path.dirname(os.path.abspath(model_path))
    for data_dir in (os.path.join(d, "test_data_set_0"),
                     os.path.join(d, case_name(model_path), "test_data_set_0")):
        if os.path.isdir(data_dir):
            return reference.read_inputs(onnx.load(model_path, load_external_data=False), data_dir)
    rng = np.random.default_rng(0)
    feeds = {}
    for i in sess.get_inputs():
        shape = [s if isinstance(s, int) and s > 0 else 1 for s in i.shape]
        feeds[i.name] = rng.standard_normal(shape).astype(_NP_TYPES.get(i.type, np.float32))
    return feeds


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
        if p.returncode != 0:
            tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-1:] or [""]
            return None, f"exit {p.returncode}: {tail[0][:160]}"
        with open(json_path) as f:
            res = json.load(f)
        if isinstance(res, list):  # `clcnn bench --json` writes one object per device
            res = res[0] if res and isinstance(res[0], dict) else {}
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
        feeds = load_feeds(model_path, sess)
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


def write_markdown(path, rows, a, command):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# clcnn vs onnxruntime", "",
        f"- Date: {now}",
        f"- Command: `{command}`",
        f"- Host: {platform.node()}, {cpu_model()}, {os.cpu_count()} logical CPUs, "
        f"{platform.system()} {platform.release()}",
        f"- onnxruntime {ort.__version__} (CPUExecutionProvider, ORT_ENABLE_ALL, "
        f"intra_op_num_threads={a.threads})",
        f"- {a.rounds} alternating rounds x ({a.warmup} warmup + {a.runs} timed runs); "
        "value = median of per-round medians; ratio < 1 means clcnn is faster", "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * 5 + ["---"]) + "|",
    ]
    for c in table_cells(rows):
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in c) + " |")
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
                    help="onnxruntime intra-op threads (default: all CPUs)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per clcnn call")
    ap.add_argument("--plot", metavar="FILE.png", help="bar chart of the ratios (matplotlib)")
    ap.add_argument("--markdown", metavar="FILE.md", help="write the table as Markdown")
    ap.add_argument("--json", metavar="FILE.json", help="write all raw results as JSON")
    a = ap.parse_args(argv)
    if min(a.runs, a.rounds, a.threads) < 1 or a.warmup < 0:
        ap.error("--runs, --rounds, --threads must be >= 1 and --warmup >= 0")
    command = "python3 " + shlex.join(sys.argv if argv is None else [sys.argv[0]] + argv)

    cases = reference.find_cases(a.paths)
    if not cases:
        print("no model found under: " + " ".join(a.paths), file=sys.stderr)
        return 2
    devices = [d.strip() for d in a.devices.split(",") if d.strip()]
    if not os.path.exists(a.clcnn):
        print(f"warning: {a.clcnn} does not exist; only onnxruntime will be timed",
              file=sys.stderr)

    rows = []
    for model_path in cases:
        t0 = time.time()
        r = bench_model(model_path, a, devices)
        rows.extend(r)
        for x in r:
            print(f"[{time.time() - t0:6.1f}s] {x['model']} {x['device']}: "
                  f"clcnn {_fmt(x['clcnn_median_ms'])} ms, ort {_fmt(x['ort_median_ms'])} ms"
                  + (f"  ({x['error']})" if x["error"] else ""), file=sys.stderr, flush=True)

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
