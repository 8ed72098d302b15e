#!/usr/bin/env python3
"""Write docs/conformance.md: ONNX backend node tests per operator and device.

Runs the conformance runner (build/tests/node_tests) once per device over the
node cases that ship in the onnx wheel (onnx/backend/test/data/node), reads
its --report file (one line per case: case<TAB>status<TAB>ops<TAB>reason) and
writes a Markdown page with, for every operator in runtime/ops.def, how many
of the cases that use it pass on each device.

A case counts for every operator it uses when all of them are in our list
(runtime/ops.def); a case that also uses an operator outside the list counts
once under "cases needing other operators" instead. When the runner could
not load a model (an opset or data type it refuses), the report has no
operators for it and they are read from model.onnx with the onnx package.

    python3 tools/conformance_report.py                    # cpu and best
    python3 tools/conformance_report.py --devices cpu --filter conv --out /tmp/c.md

A device that cannot start (no OpenCL platform, no GPU for "gpu") is left out
with its reason. A runner that crashes or hangs on a case is restarted after
that case, which is recorded as a failure. Exit status: 0 when the page was
written and no case failed, 1 when some case failed, 2 on a usage error or
when no device could run.
"""

import argparse
import collections
import datetime
import json
import os
import queue
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def onnx_node_dir():
    try:
        import onnx
    except ImportError:
        return None
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")


def parse_ops_def(path):
    """[(onnx_name, family)] in the order of runtime/ops.def."""
    ops = []
    with open(path) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    for m in re.finditer(r'^\s*OP\(\s*\w+\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*\)', text, re.M):
        ops.append((m.group(1), m.group(2)))
    return ops


def model_ops(case_dir):
    """Operators of case_dir/model.onnx as the runner would list them
    (first appearance order); other domains as "domain::Op"."""
    try:
        import onnx
        m = onnx.load(os.path.join(case_dir, "model.onnx"), load_external_data=False)
    except Exception:  # unreadable model: nothing to attribute
        return []
    seen = []
    for n in m.graph.node:
        name = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}"
        if name not in seen:
            seen.append(name)
    return seen


def run_text(cmd, timeout=60):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if p.returncode != 0:
        msg = (p.stderr.strip() or p.stdout.strip()).splitlines()
        return None, (msg[-1] if msg else f"exit {p.returncode}")
    return p.stdout, None


def probe_device(clcnn, device):
    """(device name, None) if clcnn can open a session on `device`, else
    (None, reason). Uses `clcnn bench` on the sample model (one run)."""
    sample = os.path.join(ROOT, "examples", "sample_cnn.onnx")
    if not os.path.exists(clcnn) or not os.path.exists(sample):
        return device, None  # cannot probe: let the runner find out
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        _, err = run_text([clcnn, "bench", sample, "--device", device, "--runs", "1",
                           "--warmup", "0", "--json", path], timeout=300)
        try:
            with open(path) as f:
                row = json.load(f)[0]
        except (OSError, ValueError, IndexError, KeyError):
            row = {}
        if err or row.get("error"):
            return None, row.get("error") or err
        return row.get("device", device), None
    finally:
        os.unlink(path)


def opencl_platforms(clcnn):
    """{device name: platform line} from `clcnn devices` (empty if unavailable)."""
    out, _ = run_text([clcnn, "devices"])
    plat, name = {}, None
    for line in (out or "").splitlines():
        m = re.match(r"^opencl:\d+\s+(.*)$", line)
        if m:
            name = m.group(1).strip()
        m = re.match(r"^\s+platform:\s+(.*)$", line)
        if m and name:
            plat[name] = m.group(1).strip()
    return plat


def list_cases(node_dir, flt):
    return sorted(d for d in os.listdir(node_dir)
                  if d.startswith("test_") and (not flt or flt in d)
                  and os.path.isdir(os.path.join(node_dir, d)))


LINE = re.compile(r"^(pass|FAIL|skip) (test_\S+?)(?:: (.*))?$")


def run_device(runner, device, node_dir, cases, flt, case_timeout, log):
    """Run the runner on `cases` (the runner's own selection of node_dir with
    --filter flt); after a crash or a hang, run the cases after the culprit
    from a directory of links to them.

    Returns ({case: (status, ops or None, reason)}, [incident]), or
    (None, [reason]) when the runner finds no test data."""
    results, incidents = {}, []
    todo, first = list(cases), True
    wanted = set(cases)
    while todo:
        with tempfile.TemporaryDirectory(prefix="clcnn_conf_") as tmp:
            extra = []
            if first:
                run_dir = node_dir
                extra = ["--filter", flt] if flt else []
            else:
                run_dir = os.path.join(tmp, "node")
                os.mkdir(run_dir)
                for c in todo:
                    os.symlink(os.path.join(node_dir, c), os.path.join(run_dir, c))
            first = False
            report = os.path.join(tmp, "report.tsv")
            cmd = [runner, "--device", device, "--verbose", "--report", report] + extra + [run_dir]
            done, rc, hung = _stream(cmd, case_timeout, log)
            if os.path.exists(report):
                with open(report) as f:
                    for line in f:
                        parts = line.rstrip("\n").split("\t")
                        if len(parts) >= 3 and parts[0] in wanted:
                            ops = [o for o in parts[2].split(",") if o]
                            results[parts[0]] = (parts[1], ops, parts[3] if len(parts) > 3 else "")
            for name, (status, reason) in done.items():  # lines the report lost
                if name in wanted:
                    results.setdefault(name, (status, None, reason))
        if rc == 77:
            return None, ["the runner found no test data (exit 77)"]
        remaining = [c for c in todo if c not in results]
        if not remaining:
            break
        if rc in (0, 1) and not hung:
            incidents.append(f"the runner exited {rc} without reporting {len(remaining)} cases")
            for c in remaining:
                results[c] = ("fail", None, "not reported by the runner")
            break
        bad = remaining[0]  # the runner goes in sorted order: the first unreported case
        why = (f"no result after {case_timeout:.0f}s (killed)" if hung
               else f"the runner died ({_rc_text(rc)})")
        results[bad] = ("fail", None, why)
        incidents.append(f"{bad}: {why}; restarted after it")
        todo = remaining[1:]
    return results, incidents


def _rc_text(rc):
    if rc is not None and rc < 0:
        try:
            import signal
            return f"signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"signal {-rc}"
    return f"exit {rc}"


def _stream(cmd, case_timeout, log):
    """Run cmd, parse its per-case lines; kill it when no case finishes for
    case_timeout seconds. Returns ({case: (status, reason)}, rc, hung)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         errors="replace")
    q = queue.Queue()

    def reader():
        for line in p.stdout:
            q.put(line)
        q.put(None)

    threading.Thread(target=reader, daemon=True).start()
    done, hung, last = {}, False, time.monotonic()
    while True:
        try:
            line = q.get(timeout=1.0)
        except queue.Empty:
            if time.monotonic() - last > case_timeout:
                hung = True
                p.kill()
                break
            continue
        if line is None:
            break
        last = time.monotonic()
        m = LINE.match(line.rstrip("\n"))
        if m:
            status = {"pass": "pass", "FAIL": "fail", "skip": "skip"}[m.group(1)]
            done[m.group(2)] = (status, m.group(3) or "")
        elif log and line.strip():
            log(line.rstrip("\n"))
    rc = p.wait()
    return done, rc, hung


def _type_name(m):
    try:
        from onnx import TensorProto
        return f"{m.group(0)} ({TensorProto.DataType.Name(int(m.group(1)))})"
    except (ImportError, ValueError):
        return m.group(0)


def normalise_reason(reason):
    """Group key for skip reasons: node and graph input names differ from case
    to case; ONNX data type numbers get their names."""
    r = re.sub(r"node '[^']*'", "node '…'", reason)
    r = re.sub(r"graph input '[^']*'", "graph input '…'", r)
    r = re.sub(r"^load: '[^']*' is not", "load: '…' is not", r)
    r = re.sub(r"(?<=unsupported )type (\d+)\b", _type_name, r)
    return r.strip() or "(no reason given)"


def md_escape(s):
    return s.replace("|", "\\|").replace("\n", " ")


def build_page(a, ours, devices, per_dev, case_ops, command, version, commit):
    """The Markdown text of docs/conformance.md."""
    our_names = [o for o, _ in ours]
    ourset = set(our_names)
    cases = sorted(case_ops)
    inside = [c for c in cases if case_ops[c] and all(o in ourset for o in case_ops[c])]
    outside = [c for c in cases if c not in set(inside)]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    L = ["<!-- Generated by tools/conformance_report.py. Do not edit by hand: rerun the "
         "script (see the command below). -->", "",
         "# ONNX conformance", "",
         "*This page is generated by `tools/conformance_report.py`; do not edit it by hand.*", "",
         "ONNX's backend node tests (`onnx/backend/test/data/node`, shipped in the onnx "
         "wheel) run through clcnn's public API by `build/tests/node_tests`, per operator "
         "of clcnn's list (`runtime/ops.def`) and per device. Outputs are compared with "
         "ONNX's expected outputs (floats: |got - want| <= 1e-5 + 1e-3 |want|; integers "
         "exactly). A case counts for every operator it uses when all of them are in "
         "clcnn's list; a case that uses any other operator is counted once under *cases "
         "needing other operators*. A cell reads *passed/cases*; the rest were skipped "
         "(with a reason, listed below) or failed (listed below).", "",
         "Whole models are checked elsewhere: torchvision's classification, segmentation "
         "and detection models exported by PyTorch's two ONNX exporters, in float32, "
         "float16 and QDQ int8, against onnxruntime on the CPU backend and PoCL: [Models exported by "
         "PyTorch](exports.md) (written by hand, not by this script).", "",
         f"- Date: {now}",
         f"- Command: `{command}`",
         f"- clcnn: {version}" + (f" (git {commit})" if commit else ""),
         f"- onnx {a.onnx_version}, node test data: `{a.node_dir}`"
         + (f", cases matching `{a.filter}`" if a.filter else "")
         + f" ({len(cases)} cases)"]
    for d in devices:
        info = per_dev[d]
        if info.get("error"):
            L.append(f"- Device `{d}`: not run: {info['error']}")
        else:
            plat = info.get("platform")
            name = "the CPU backend" if info["name"] == "cpu" else info["name"]
            L.append(f"- Device `{d}`: {name}" + (f" ({plat})" if plat else "")
                     + f"; runner: `{shlex.join(info['cmd'])}`")
    ran = [d for d in devices if not per_dev[d].get("error")]
    L.append("")

    def count(d, subset):
        res = per_dev[d]["results"]
        p = sum(1 for c in subset if res.get(c, ("?",))[0] == "pass")
        f = sum(1 for c in subset if res.get(c, ("?",))[0] == "fail")
        return p, f

    def cell(d, subset):
        p, f = count(d, subset)
        return f"{p}/{len(subset)}" + (f" ({f} failed)" if f else "")

    by_op = {o: [c for c in inside if o in case_ops[c]] for o in our_names}
    L += ["## Summary", "",
          "| | cases | " + " | ".join(f"`{d}`" for d in ran) + " |",
          "|---|---:|" + "---:|" * len(ran),
          "| cases using only clcnn's operators | " + str(len(inside)) + " | "
          + " | ".join(cell(d, inside) for d in ran) + " |",
          "| cases needing other operators | " + str(len(outside)) + " | "
          + " | ".join(cell(d, outside) for d in ran) + " |",
          "| all cases | " + str(len(cases)) + " | "
          + " | ".join(cell(d, cases) for d in ran) + " |",
          f"| operators with at least one case | {sum(1 for o in our_names if by_op[o])} of "
          f"{len(our_names)} | " + " | ".join(
              f"{sum(1 for o in our_names if by_op[o] and count(d, by_op[o])[0] == len(by_op[o]))}"
              " all passed" for d in ran) + " |", ""]

    L += ["## Per operator", "",
          "| operator | family | cases | " + " | ".join(f"`{d}`" for d in ran) + " |",
          "|---|---|---:|" + "---:|" * len(ran)]
    for o, fam in ours:
        L.append(f"| {o} | {fam} | {len(by_op[o])} | "
                 + " | ".join(cell(d, by_op[o]) if by_op[o] else "-" for d in ran) + " |")
    L.append("")

    # Failures: every case, every device.
    fails = [(c, d, per_dev[d]["results"][c][2]) for c in cases for d in ran
             if per_dev[d]["results"].get(c, ("?",))[0] == "fail"]
    L += ["## Failures", ""]
    if fails:
        L += ["| case | device | operators | reason |", "|---|---|---|---|"]
        for c, d, why in fails:
            L.append(f"| `{c}` | `{d}` | {', '.join(case_ops.get(c, []))} | "
                     f"{md_escape(why)} |")
    else:
        L.append("None.")
    inc = [(d, i) for d in devices for i in per_dev[d].get("incidents", [])]
    if inc:
        L += ["", "Runner incidents:", ""] + [f"- `{d}`: {md_escape(i)}" for d, i in inc]
    L.append("")

    # Skips of cases that use only our operators, grouped by reason.
    groups = collections.OrderedDict()
    for c in inside:
        for d in ran:
            st, _, why = per_dev[d]["results"].get(c, ("?", None, ""))
            if st == "skip":
                groups.setdefault(normalise_reason(why), collections.OrderedDict()) \
                      .setdefault(c, []).append(d)
    L += ["## Skipped cases of clcnn's operators", "",
          "Cases that use only operators of clcnn's list but were skipped, grouped by the "
          "reason the runner gave (a device is named when the case was skipped there only).",
          ""]
    if not groups:
        L.append("None.")
    for why, cs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        L += [f"### {md_escape(why)} ({len(cs)})", "",
              ", ".join(f"`{c}`" + ("" if len(ds) == len(ran) else f" ({', '.join(ds)})")
                        for c, ds in cs.items()), ""]

    # What the other cases need.
    need = collections.Counter(o for c in outside for o in set(case_ops[c]) if o not in ourset)
    L += ["## Operators outside the list", "",
          f"{len(outside)} cases use at least one operator outside clcnn's list "
          f"({sum(1 for c in outside if not case_ops[c])} of them have no readable model). "
          "Operators by number of cases:", "",
          ", ".join(f"{o} ({n})" for o, n in sorted(need.items(), key=lambda kv: (-kv[1], kv[0])))
          or "None.", ""]
    return "\n".join(L)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--runner", default=os.path.join(ROOT, "build", "tests", "node_tests"),
                    help="the conformance runner (default: build/tests/node_tests)")
    ap.add_argument("--clcnn", default=os.path.join(ROOT, "build", "tools", "clcnn"),
                    help="the clcnn tool, for --version and device names "
                    "(default: build/tools/clcnn)")
    ap.add_argument("--devices", default="cpu,best", help="comma-separated (default: cpu,best)")
    ap.add_argument("--filter", help="only cases whose name contains this (passed to the runner)")
    ap.add_argument("--node-dir", help="ONNX node test directory (default: the onnx package's)")
    ap.add_argument("--ops-def", default=os.path.join(ROOT, "runtime", "ops.def"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "conformance.md"),
                    help="page to write (default: docs/conformance.md)")
    ap.add_argument("--case-timeout", type=float, default=300,
                    help="seconds without a finished case before the runner is killed "
                    "(default 300)")
    ap.add_argument("--quiet", action="store_true", help="don't echo the runner's other output")
    a = ap.parse_args(argv)
    command = "python3 " + shlex.join(
        [os.path.relpath(os.path.abspath(sys.argv[0]), ROOT) if argv is None else sys.argv[0]]
        + (sys.argv[1:] if argv is None else argv))

    a.node_dir = a.node_dir or onnx_node_dir()
    if not a.node_dir or not os.path.isdir(a.node_dir):
        print("no ONNX node test data: install the onnx wheel (pip install onnx==1.22.0) "
              "or pass --node-dir", file=sys.stderr)
        return 2
    try:
        import onnx
        a.onnx_version = onnx.__version__
    except ImportError:
        a.onnx_version = "(not importable)"
    if not os.access(a.runner, os.X_OK):
        print(f"{a.runner}: not found or not executable (build first: ninja -C build)",
              file=sys.stderr)
        return 2
    ours = parse_ops_def(a.ops_def)
    if not ours:
        print(f"{a.ops_def}: no OP(...) lines", file=sys.stderr)
        return 2
    cases = list_cases(a.node_dir, a.filter)
    if not cases:
        print(f"no case matches '{a.filter}'", file=sys.stderr)
        return 2

    out, err = run_text([a.clcnn, "--version"])
    version = out.strip() if out else f"unknown ({err})"
    out, _ = run_text(["git", "-C", ROOT, "describe", "--always", "--dirty"])
    commit = out.strip() if out else ""
    platforms = opencl_platforms(a.clcnn) if os.path.exists(a.clcnn) else {}

    devices = [d.strip() for d in a.devices.split(",") if d.strip()]
    per_dev = {}
    log = None if a.quiet else (lambda s: print("  " + s, file=sys.stderr))
    for d in devices:
        t0 = time.time()
        name, why = probe_device(a.clcnn, d)
        if why:
            print(f"{d}: skipped, the device does not start: {why}", file=sys.stderr)
            per_dev[d] = {"error": f"the device does not start: {why}"}
            continue
        print(f"{d} ({name}): running {len(cases)} cases ...", file=sys.stderr, flush=True)
        results, incidents = run_device(a.runner, d, a.node_dir, cases, a.filter, a.case_timeout, log)
        if results is None:
            per_dev[d] = {"error": "; ".join(incidents)}
            continue
        st = collections.Counter(s for s, _, _ in results.values())
        print(f"{d}: {st['pass']} passed, {st['fail']} failed, {st['skip']} skipped "
              f"in {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
        per_dev[d] = {"name": name, "platform": platforms.get(name), "results": results,
                      "incidents": incidents,
                      "cmd": [os.path.relpath(a.runner, ROOT), "--device", d, "--verbose"]
                      + (["--filter", a.filter] if a.filter else [])
                      + ["--report", "FILE", "NODE_DIR"]}
    if all(per_dev[d].get("error") for d in devices):
        print("no device could run", file=sys.stderr)
        return 2

    # Operators per case: the runner's list, else the model's (unloadable ones).
    case_ops = {}
    for c in cases:
        ops = None
        for d in devices:
            r = per_dev[d].get("results", {}).get(c)
            if r and r[1]:
                ops = r[1]
                break
        case_ops[c] = ops if ops else model_ops(os.path.join(a.node_dir, c))

    page = build_page(a, ours, devices, per_dev, case_ops, command, version, commit)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(page)
    print(f"wrote {a.out}", file=sys.stderr)
    failed = any(r[0] == "fail" for d in devices
                 for r in per_dev[d].get("results", {}).values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
