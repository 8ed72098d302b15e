#!/usr/bin/env python3
"""Benchmark clcnn against onnxruntime and OpenVINO (CPU) on the same models.

For every model (a case dir with model.onnx, a model.onnx file, or a zoo dir
holding many cases) this alternates, for --rounds rounds:
    * each peer runtime of --peers, in a process of its own that loads and
      compiles the model once and is then asked for --warmup + --runs timed
      runs per round:
        onnxruntime: CPUExecutionProvider, full graph optimisations,
          intra_op_num_threads = --threads, sequential;
        openvino: the CPU plugin, INFERENCE_NUM_THREADS = --threads,
          PERFORMANCE_HINT LATENCY, INFERENCE_PRECISION_HINT f32 (its default
          on CPUs with bfloat16 instructions is bf16, which would not be the
          fp32 arithmetic the others do); left out with a message where
          `import openvino` fails (pip install openvino);
    * `clcnn bench MODEL --device D --runs N --warmup N --json FILE` for each
      entry of --devices.
All time the same input: by default (--inputs clcnn) the peers get the
pseudo-random tensors that `clcnn bench` and `clcnn run` make (splitmix64,
seed 0x5eed * input index, floats uniform in [-1, 1), open dims 1);
--inputs test-data uses the case's test_data_set_0 instead, for the peers
only (clcnn bench has no --input). The tensors are made once per model and
handed to every peer process in one file. Every runtime uses every CPU by
default: clcnn's CPU backend takes one thread per online CPU, so --threads
other than os.cpu_count() makes the comparison unequal (a warning says so).
Ratios are clcnn / peer (median over median): below 1, clcnn is faster.
Alternating rounds spreads thermal/frequency drift and background noise over
all runtimes instead of penalising whichever runs second. The reported value
per runtime is the median of the per-round medians.

--busy N: every round then runs every runtime twice, first quiet, then with
N busy processes (python3 loops that spin on a CPU, at the benchmark's own
priority) that the benchmark starts for that part of the round and kills
right after it: also on an error, Ctrl-C or SIGTERM, and a busy process
whose parent dies is killed by the kernel (PR_SET_PDEATHSIG) and also
stops on its own when it sees it has a new parent. The tables then give per
runtime the busy median and busy/quiet, and the ratios to the peers under
load; the CPU time the busy processes got is printed, so that a busy part in
which they did not run cannot pass for one.

Peak RSS per runtime, each in a process of its own, measured quiet once per
model: a peer's process reports its high-water mark (/proc/self/status
VmHWM) and its RSS after importing the runtime, before the model (base); for
clcnn, after the timed rounds, one `clcnn run MODEL --device D --runs 10`
(one session, like the peers) is sampled for VmHWM while it runs. `model RSS`
is peak minus base: for the peers without the Python interpreter, numpy and
the runtime's own libraries, for clcnn the whole process (base 0, its
libraries included), so the model RSS ratio leans against clcnn.
The peers' first outputs are compared with each other (a difference beyond
1e-3 of their scale is noted in the row: not the same computation).

    python3 tools/peer_bench.py /tmp/zoo --devices cpu,gpu --runs 20 \\
        --markdown bench.md --plot bench.png
    python3 tools/peer_bench.py build/zoo --models resnet18,mobilenetv2 --busy 1 ...
    python3 tools/peer_bench.py build/zoo --peers onnxruntime ...   (no OpenVINO)

--markdown rewrites the file's generated part (date, machine, versions, the
ratio table with geometric means, the per-runtime table) and keeps, word for
word, everything from a line "<!-- notes: ... -->" (NOTES_MARKER) to the end:
put hand-written commentary there. --plot needs matplotlib; without it the
plot is skipped with a message and everything else is written.
"""

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

# ---------------------------------------------------------------------------
# The peer worker: `peer_bench.py --worker KIND MODEL FEEDS.npz THREADS` runs
# in a process of its own, imports only numpy and its runtime (so that its
# memory is its own), and answers one JSON line per request on stdin.


def _linux():
    return sys.platform.startswith("linux")


def _child_guard():
    """A preexec_fn for the children: killed by the kernel when this process
    dies (Linux), and gone at once if it died before the prctl."""
    if not _linux():
        return None
    parent = os.getpid()

    def guard():
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:
            os._exit(1)
    return guard


def _proc_status_bytes(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _self_peak_rss():
    v = _proc_status_bytes("VmHWM")
    if v is None:
        import resource
        v = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1024 if _linux() else 1)
    return v


def ort_session(model_path, threads, optimise=True):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimise
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    return ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])


def _worker_runner(kind, model_path, feeds, threads):
    """(run function returning the outputs, version, base RSS, settings)."""
    if kind == "onnxruntime":
        import onnxruntime as ort
        base = _proc_status_bytes("VmRSS")
        sess = ort_session(model_path, threads)
        return (lambda: sess.run(None, feeds)), ort.__version__, base, {
            "intra_op_num_threads": threads}
    if kind == "openvino":
        import openvino as ov
        base = _proc_status_bytes("VmRSS")
        core = ov.Core()
        compiled = core.compile_model(core.read_model(model_path), "CPU", {
            "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32"})
        req = compiled.create_infer_request()
        outs = list(compiled.outputs)
        settings = {}
        for k in ("INFERENCE_NUM_THREADS", "NUM_STREAMS", "INFERENCE_PRECISION_HINT",
                  "PERFORMANCE_HINT"):
            try:
                v = compiled.get_property(k)
                settings[k] = str(v.get_type_name() if hasattr(v, "get_type_name") else v)
            except Exception:  # a property this release does not report
                settings[k] = "?"

        def run():
            r = req.infer(feeds)
            return [r[o] for o in outs]
        return run, ov.get_version().split("-")[0], base, settings
    raise ValueError(f"unknown peer {kind!r}")


def _worker_main(argv):
    kind, model_path, feeds_path, threads = argv[0], argv[1], argv[2], int(argv[3])
    # The answers go to the original stdout; whatever the runtime prints to
    # file descriptor 1 goes to stderr instead of into them.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(obj):
        answers.write(json.dumps(obj) + "\n")
        answers.flush()

    try:
        with np.load(feeds_path) as z:
            names = [str(n) for n in z["names"]]
            feeds = {n: z[f"arr_{k}"] for k, n in enumerate(names)}
        run, version, base, settings = _worker_runner(kind, model_path, feeds, threads)
        send({"ready": True, "version": version, "base_rss": base, "settings": settings})
        for line in sys.stdin:
            cmd = json.loads(line)
            if cmd["op"] == "time":
                for _ in range(cmd["warmup"]):
                    run()
                ts = []
                for _ in range(cmd["runs"]):
                    t0 = time.perf_counter()
                    run()
                    ts.append((time.perf_counter() - t0) * 1e3)
                send({"times_ms": ts})
            elif cmd["op"] == "outputs":  # the first values of every output
                send({"outputs": [np.asarray(o).reshape(-1)[:1024].astype(np.float64).tolist()
                                  for o in run()]})
            elif cmd["op"] == "quit":
                break
        send({"peak_rss": _self_peak_rss()})
    except BrokenPipeError:
        return 1
    except Exception as e:
        msg = str(e).strip().splitlines()
        send({"error": f"{type(e).__name__}: {(msg[0] if msg else '')[:240]}"})
        return 1
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    sys.exit(_worker_main(sys.argv[2:]))

# ---------------------------------------------------------------------------
# The benchmark itself.

import onnx  # noqa: E402  (after the worker: a worker imports only its runtime)
import onnxruntime as ort  # noqa: E402

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


def run_clcnn(clcnn, model_path, device, runs, warmup, timeout):
    """Run `clcnn bench` once; return (result dict, None) or (None, error text)."""
    fd, json_path = tempfile.mkstemp(prefix="clcnn_bench_", suffix=".json")
    os.close(fd)
    cmd = [clcnn, "bench", model_path, "--device", device, "--runs", str(runs),
           "--warmup", str(warmup), "--json", json_path]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           preexec_fn=_child_guard())
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


PEERS = ("onnxruntime", "openvino")
PEER_SHORT = {"onnxruntime": "ort", "openvino": "ov"}


class PeerError(Exception):
    pass


class Peer:
    """One peer runtime in its own process, for one model: loaded and
    compiled once, then timed on request. kill() always ends it."""

    def __init__(self, kind, model_path, feeds_path, threads, timeout):
        self.kind, self.timeout = kind, timeout
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", kind, model_path,
             feeds_path, str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True,
            preexec_fn=_child_guard())
        try:
            self.info = self._recv()
        except BaseException:
            self.kill()
            raise

    def _recv(self):
        r, _, _ = select.select([self.proc.stdout], [], [], self.timeout)
        if not r:
            raise PeerError(f"{self.kind}: no answer within {self.timeout:g} s")
        line = self.proc.stdout.readline()
        if not line:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = "?"
            self.err.seek(0)
            tail = [x for x in self.err.read().splitlines() if x.strip()][-1:] or [""]
            raise PeerError(f"{self.kind}: worker exited ({code}): {tail[0][:200]}")
        try:
            msg = json.loads(line)
        except ValueError:
            raise PeerError(f"{self.kind}: unreadable answer {line.strip()[:80]!r}") from None
        if "error" in msg:
            raise PeerError(f"{self.kind}: {msg['error']}")
        return msg

    def _ask(self, **cmd):
        try:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
        except OSError:
            pass  # a dead worker: _recv says why
        return self._recv()

    def time(self, runs, warmup):
        return self._ask(op="time", runs=runs, warmup=warmup)["times_ms"]

    def outputs(self):
        return self._ask(op="outputs")["outputs"]

    def close(self):
        """Stop the worker; returns its peak RSS in bytes."""
        try:
            return self._ask(op="quit").get("peak_rss")
        finally:
            self.kill()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.err):
            try:
                f.close()
            except OSError:
                pass


def peers_available(names):
    """The peers of `names` that can be imported here, and a message for each
    that cannot."""
    import importlib.util
    have, missing = [], []
    for p in names:
        if p not in PEERS:
            raise ValueError(f"unknown peer {p!r} (known: {', '.join(PEERS)})")
        if importlib.util.find_spec(p) is None:
            missing.append(f"{p} is not installed (pip install {p}): its columns are left out")
        else:
            have.append(p)
    return have, missing


SPIN = ("import os, sys\n"
        "p = os.getppid()\n"
        "sys.stdout.write('spinning\\n')\n"
        "sys.stdout.flush()\n"
        "while os.getppid() == p:\n"
        "    for _ in range(1000000):\n"
        "        pass\n")


class BusyStats:
    """CPU seconds the busy processes got and the wall seconds they lived."""

    def __init__(self):
        self.cpu_s = self.wall_s = 0.0
        self.started = 0

    def share(self):
        return self.cpu_s / self.wall_s if self.wall_s > 0 else None


def _reap(p):
    """Kill and reap p; its rusage (None if it was already reaped)."""
    if p.returncode is not None:
        return None
    try:
        p.kill()
    except OSError:
        pass
    try:
        _, status, ru = os.wait4(p.pid, 0)
    except ChildProcessError:
        p.wait()
        return None
    p.returncode = os.waitstatus_to_exitcode(status)
    return ru


@contextlib.contextmanager
def busy_load(n, stats):
    """n processes that spin on a CPU while the block runs; all killed and
    reaped when it ends, however it ends."""
    procs, t0 = [], time.monotonic()
    try:
        for _ in range(n):
            procs.append(subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, text=True,
                                          preexec_fn=_child_guard()))
        for p in procs:
            if p.stdout.readline() != "spinning\n":
                raise RuntimeError("a busy process did not start")
        stats.started += len(procs)
        yield procs
    finally:
        wall = time.monotonic() - t0
        for p in procs:
            ru = _reap(p)
            if ru is not None:
                stats.cpu_s += ru.ru_utime + ru.ru_stime
                stats.wall_s += wall
            p.stdout.close()


def _vmhwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_peak_rss(cmd, timeout):
    """Run cmd (output discarded); (its peak RSS in bytes, None) or (None, error).

    The peak is the VmHWM of the process's own address space, sampled every
    2 ms while it runs (the last sample before it exits). Not wait4()'s
    ru_maxrss: Linux carries into it the RSS of the address space the child
    had before exec, a copy of this Python process, so every child would
    seem to take at least as much memory as the benchmark itself."""
    if not os.path.isdir("/proc/self"):
        return None, "no /proc to read the peak RSS from"
    err = tempfile.TemporaryFile(mode="w+")
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=err, preexec_fn=_child_guard())
    except OSError as e:
        err.close()
        return None, f"{type(e).__name__}: {e}"
    deadline, peak = time.monotonic() + timeout, None
    try:
        while p.poll() is None:
            v = _vmhwm(p.pid)  # None once it is a zombie: its memory is gone
            if v is not None:
                peak = v
            if time.monotonic() > deadline:
                return None, f"timed out after {timeout:g} s"
            time.sleep(0.002)
        if p.returncode != 0:
            err.seek(0)
            tail = [x for x in err.read().splitlines() if x.strip()][-1:] or [""]
            return None, f"exit {p.returncode}: {tail[0][:160]}"
        return peak, (None if peak else "exited before its memory could be read")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        err.close()


def compare_outputs(a, b, tol=1e-3):
    """None if the first values of two runtimes' outputs agree, else why not."""
    if len(a) != len(b):
        return f"{len(a)} outputs against {len(b)}"
    worst = 0.0
    for x, y in zip(a, b):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape:
            return f"output sizes {x.size} and {y.size}"
        if x.size == 0:
            continue
        scale = max(1.0, float(np.max(np.abs(x))))
        worst = max(worst, float(np.max(np.abs(x - y))) / scale)
    return None if worst <= tol else f"max|diff| {worst:.2g} of the output's scale"


def _median(xs):
    return statistics.median(xs) if xs else None


def _ratio(x, y):
    return x / y if (x is not None and y) else None


def bench_model(model_path, a, devices, peers, tmpdir, busy):
    """Return a list of row dicts (one per clcnn device) for one model."""
    name = case_name(model_path)
    loads = ["quiet"] + (["busy"] if a.busy else [])
    errors, notes = {}, []
    feeds_path = os.path.join(tmpdir, "feeds.npz")
    try:
        sess = ort_session(model_path, 1, optimise=False)  # for its inputs only
        feeds = load_feeds(model_path, sess, a.inputs)
        del sess
        np.savez(feeds_path, *feeds.values(), names=np.array(list(feeds), dtype=np.str_))
    except Exception as e:  # keep going: clcnn may still run it
        for p in peers:
            errors[p] = f"inputs: {type(e).__name__}: {str(e).splitlines()[0][:160]}"

    # st[runtime][load]: per-round medians, every time (for the minimum)
    runtimes = list(peers) + [f"clcnn:{d}" for d in devices]
    st = {k: {ld: {"rounds": [], "all": [], "maxs": []} for ld in loads} for k in runtimes}
    info = {k: {"peak_rss": None, "base_rss": None, "version": None, "settings": {},
                "device_name": None} for k in runtimes}
    live = {}
    try:
        for p in peers:
            if p in errors:
                continue
            try:
                live[p] = Peer(p, model_path, feeds_path, a.threads, a.timeout)
                info[p].update(version=live[p].info.get("version"),
                               base_rss=live[p].info.get("base_rss"),
                               settings=live[p].info.get("settings", {}))
            except PeerError as e:
                errors[p] = str(e)
        for _ in range(a.rounds):
            for ld in loads:
                with busy_load(a.busy if ld == "busy" else 0, busy):
                    for p in list(live):
                        try:
                            ts = live[p].time(a.runs, a.warmup)
                        except PeerError as e:
                            errors[p] = str(e)
                            live.pop(p).kill()
                            continue
                        st[p][ld]["rounds"].append(statistics.median(ts))
                        st[p][ld]["all"].extend(ts)
                    for d in devices:
                        k = f"clcnn:{d}"
                        if k in errors:
                            continue  # a failure is not retried in later rounds
                        res, err = run_clcnn(a.clcnn, model_path, d, a.runs, a.warmup, a.timeout)
                        if err:
                            errors[k] = err
                            continue
                        st[k][ld]["rounds"].append(float(res["median_ms"]))
                        st[k][ld]["all"].append(float(res["min_ms"]))
                        st[k][ld]["maxs"].append(float(res["max_ms"]))
                        info[k]["device_name"] = str(res.get("device", d))
        heads = {}
        for p in list(live):
            try:
                heads[p] = live[p].outputs()
                info[p]["peak_rss"] = live.pop(p).close()
            except PeerError as e:
                errors[p] = str(e)
                live.pop(p).kill()
        if len(heads) > 1:
            first = next(iter(heads))
            for p in list(heads)[1:]:
                why = compare_outputs(heads[first], heads[p])
                if why:
                    notes.append(f"{p} outputs differ from {first}'s: {why}")
    finally:
        for w in live.values():
            w.kill()

    if os.path.exists(a.clcnn):
        for d in devices:  # one session, like the peers; 10 runs keep it alive to be read
            k = f"clcnn:{d}"
            if k in errors:
                continue
            peak, err = run_peak_rss([a.clcnn, "run", model_path, "--device", d, "--runs", "10"],
                                     a.timeout)
            if err:
                notes.append(f"clcnn run --device {d} (for its peak RSS): {err}")
            info[k].update(peak_rss=peak, base_rss=0 if peak else None)

    def summary(k):
        s = {}
        for ld in loads:
            x = st[k][ld]
            s[ld] = {"median_ms": _median(x["rounds"]),
                     "min_ms": min(x["all"]) if x["all"] else None,
                     "max_ms": max(x["maxs"]) if x["maxs"] else None,
                     "round_medians_ms": x["rounds"]}
        s["busy/quiet"] = _ratio(s.get("busy", {}).get("median_ms"), s["quiet"]["median_ms"])
        s.update(info[k])
        s["model_rss"] = (s["peak_rss"] - s["base_rss"]
                          if s["peak_rss"] is not None and s["base_rss"] is not None else None)
        s["error"] = errors.get(k, "")
        return s

    peer_sum = {p: summary(p) for p in peers}
    rows = []
    for d in devices:
        c = summary(f"clcnn:{d}")
        r = {
            "model": name, "device": d, "device_name": c["device_name"] or "",
            # the fields of the quiet comparison with onnxruntime, as before --busy
            "clcnn_median_ms": c["quiet"]["median_ms"], "clcnn_min_ms": c["quiet"]["min_ms"],
            "clcnn_max_ms": c["quiet"]["max_ms"],
            "clcnn_round_medians_ms": c["quiet"]["round_medians_ms"],
            "clcnn": c, "peers": peer_sum,
            "error": "; ".join(e for e in [c["error"]] + [peer_sum[p]["error"] for p in peers]
                               if e),
            "notes": notes,
        }
        o = peer_sum.get("onnxruntime")
        if o:
            r.update(ort_median_ms=o["quiet"]["median_ms"], ort_min_ms=o["quiet"]["min_ms"],
                     ort_round_medians_ms=o["quiet"]["round_medians_ms"])
        for p in peers:
            q = PEER_SHORT[p]
            for ld in loads:
                suffix = "" if ld == "quiet" else "_busy"
                r[f"ratio{'' if q == 'ort' else '_' + q}{suffix}"] = _ratio(
                    c[ld]["median_ms"], peer_sum[p][ld]["median_ms"])
            r[f"rss_ratio_{q}"] = _ratio(c["model_rss"], peer_sum[p]["model_rss"])
        rows.append(r)
    return rows


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    return (math.exp(sum(math.log(x) for x in xs) / len(xs)), len(xs)) if xs else (None, 0)


def _fmt(v, nd=2):
    return "-" if v is None else f"{v:.{nd}f}"


def _mib(v):
    return "-" if v is None else f"{v / 1048576:.1f}"


def ratio_columns(peers, busy):
    """(header, row key) of the ratio table's numeric columns."""
    cols = []
    for p in peers:
        q = PEER_SHORT[p]
        key = "ratio" if q == "ort" else f"ratio_{q}"
        cols.append((f"clcnn/{q}", key))
        if busy:
            cols.append((f"clcnn/{q} busy", key + "_busy"))
    for p in peers:
        q = PEER_SHORT[p]
        cols.append((f"model RSS clcnn/{q}", f"rss_ratio_{q}"))
    return cols


def ratio_table(rows, peers, busy):
    """Header and cells of the ratio table, geometric means per device last."""
    cols = ratio_columns(peers, busy)
    header = ["model", "device"] + [h for h, _ in cols] + ["note"]
    cells = []
    for r in rows:
        note = "; ".join(x for x in [r["error"]] + r["notes"] if x) or r["device_name"]
        cells.append([r["model"], r["device"]] + [_fmt(r.get(k), 3) for _, k in cols] + [note])
    for d in dict.fromkeys(r["device"] for r in rows):
        rs = [r for r in rows if r["device"] == d]
        n_all = len({r["model"] for r in rs})
        row = [f"geomean ({n_all} model{'s' if n_all != 1 else ''})", d]
        for _, k in cols:
            m, n = geomean([r.get(k) for r in rs])
            row.append(_fmt(m, 3) + (f" (n={n})" if m is not None and n < n_all else ""))
        cells.append(row + [""])
    return header, cells


RUNTIME_HEADER = ["model", "runtime", "median ms", "min ms", "busy median ms", "busy/quiet",
                  "peak RSS MiB", "base RSS MiB", "model RSS MiB", "note"]


def runtime_table(rows, peers, busy):
    """One line per model and runtime: quiet and busy medians, memory."""
    header = [h for h in RUNTIME_HEADER if busy or "busy" not in h]
    cells = []

    def line(model, label, s):
        c = [model, label, _fmt(s["quiet"]["median_ms"]), _fmt(s["quiet"]["min_ms"])]
        if busy:
            c += [_fmt(s["busy"]["median_ms"]), _fmt(s["busy/quiet"])]
        c += [_mib(s["peak_rss"]), _mib(s["base_rss"]), _mib(s["model_rss"])]
        note = s["error"] or s.get("device_name") or ""
        if not note and s.get("version"):
            note = f"{s['version']}"
        return c + [note]

    for model in dict.fromkeys(r["model"] for r in rows):
        rs = [r for r in rows if r["model"] == model]
        for r in rs:
            cells.append(line(model, f"clcnn {r['device']}", r["clcnn"]))
        for p in peers:
            cells.append(line(model, p, rs[0]["peers"][p]))
    return header, cells


def print_cells(header, cells):
    allc = [header] + cells
    w = [max(len(c[i]) for c in allc) for i in range(len(header) - 1)]
    for k, c in enumerate(allc):
        print("  ".join(c[i].ljust(w[i]) if i < 2 else c[i].rjust(w[i])
                        for i in range(len(w))) + "  " + c[-1])
        if k == 0:
            print("  ".join("-" * x for x in w) + "  " + "-" * 4)


def print_table(rows, peers, busy):
    print_cells(*ratio_table(rows, peers, busy))
    print()
    print_cells(*runtime_table(rows, peers, busy))


def md_table(header, cells):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 3) + ["---"]) + "|"]
    for c in cells:
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in c) + " |")
    return lines


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# CPU features worth naming in the machine line, in /proc/cpuinfo's spelling.
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
             "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8", "asimd", "sve")


def cpu_summary():
    """'MODEL, N CPUs (S sockets x C cores x T threads), FLAGS[, hypervisor]'
    from lscpu where it runs, else /proc/cpuinfo."""
    fields = {}
    try:
        p = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=30)
        for line in p.stdout.splitlines():
            k, _, v = line.partition(":")
            fields.setdefault(k.strip(), v.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    model = fields.get("Model name") or cpu_model()
    flags = set(fields.get("Flags", "").split())
    if not flags:
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith(("flags", "Features")):
                        flags = set(line.split(":", 1)[1].split())
                        break
        except OSError:
            pass
    have = [f for f in CPU_FLAGS if f in flags]
    amx = any(f.startswith("amx") for f in flags)
    s = f"{model}, {os.cpu_count()} logical CPUs"
    if fields.get("Core(s) per socket"):
        s += (f" ({fields.get('Socket(s)', '?')} socket(s) x {fields['Core(s) per socket']} "
              f"core(s) x {fields.get('Thread(s) per core', '?')} thread(s))")
    s += "; " + (" ".join(have) if have else "no SIMD flags found")
    if "sse2" in flags:  # x86: say outright whether the wide units are there
        s += ("; AVX-512: " + ("yes" if "avx512f" in flags else "no")
              + ", AMX: " + ("yes" if amx else "no"))
    if fields.get("Hypervisor vendor"):
        s += f"; {fields['Hypervisor vendor']} guest"
    return s


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


def git_describe(path):
    """The commit of the checkout that holds path ('+ changes' if its tracked
    files differ from it), or None outside git."""
    d = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    try:
        h = subprocess.run(["git", "-C", d, "rev-parse", "--short=10", "HEAD"],
                           capture_output=True, text=True, timeout=30)
        if h.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", d, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30)
        return h.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        return None


def peer_versions(rows, peers):
    out = {}
    for p in peers:
        for r in rows:
            s = r["peers"][p]
            if s.get("version"):
                out[p] = (s["version"], s.get("settings") or {})
                break
    return out


def write_markdown(path, rows, a, command, peers, missing):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    notes = _kept_notes(path)
    names = " and ".join(peers) or "no peer"
    inputs = (f"the pseudo-random inputs `clcnn bench` makes (same values for clcnn and {names})"
              if a.inputs == "clcnn" else
              f"test_data_set_0 for {names}, `clcnn bench`'s pseudo-random inputs for clcnn")
    vers = peer_versions(rows, peers)
    lines = [
        "<!-- Generated by tools/peer_bench.py --markdown: do not edit above the notes "
        "marker; rerun the command below. -->", "",
        "# clcnn vs " + (" and ".join(peers) if peers else "onnxruntime"), "",
        "*Generated by `tools/peer_bench.py`; do not edit by hand (hand-written notes go "
        "below the notes marker at the end, which the script keeps).*", "",
        f"- Date: {now}",
        f"- Command: `{command}`",
        f"- Machine: {cpu_summary()}; {platform.system()} {platform.release()}, host "
        f"{platform.node()}; 1-minute load average {getattr(a, 'load_start', '?')} at the "
        f"start, {getattr(a, 'load_end', loadavg())} at the end (other work on the host slows "
        "every runtime and widens the min-median gap)",
        f"- {getattr(a, 'version', None) or clcnn_version(a.clcnn)}, git "
        f"{getattr(a, 'git', None) or 'unknown'}; inputs: {inputs}",
    ]
    if "onnxruntime" in peers:
        v = vers.get("onnxruntime", (ort.__version__, {}))[0]
        lines.append(f"- onnxruntime {v} (CPUExecutionProvider, ORT_ENABLE_ALL, "
                     f"intra_op_num_threads={a.threads}, sequential)")
    if "openvino" in peers:
        v, s = vers.get("openvino", ("?", {}))
        lines.append(f"- OpenVINO {v} (CPU plugin; " + (", ".join(
            f"{k}={x}" for k, x in s.items()) or f"INFERENCE_NUM_THREADS={a.threads}") + ")")
    lines += [f"- {m}" for m in missing]
    lines += [
        f"- {a.rounds} alternating rounds x ({a.warmup} warmup + {a.runs} timed runs) per "
        "runtime" + (f", each round quiet and then with {a.busy} busy process"
                     f"{'es' if a.busy > 1 else ''} (python3 spinning on a CPU, started and "
                     "killed by the benchmark"
                     + (f"; they got {a.busy_share:.2f} CPU each while they ran"
                        if getattr(a, "busy_share", None) is not None else "") + ")"
                     if a.busy else ", quiet") + "; value = median of per-round medians; a "
        "ratio below 1 means clcnn is faster or smaller",
        "- Peak RSS: each runtime in a process of its own, its high-water mark (VmHWM); "
        "the peers' worker processes, and `clcnn run MODEL --runs 10` for clcnn; base = "
        "the peer's process after importing the runtime, before the model (Python, numpy "
        "and the runtime's libraries), 0 for clcnn (its libraries stay in); model RSS = "
        "peak - base", "",
        "## Ratios", "",
    ]
    lines += md_table(*ratio_table(rows, peers, a.busy))
    lines += ["", "## Per runtime", ""]
    lines += md_table(*runtime_table(rows, peers, a.busy))
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
    series = []  # (label, {(model): ratio})
    for d in dict.fromkeys(r["device"] for r in rows):
        for key, label in (("ratio", d), ("ratio_busy", f"{d}, busy")):
            vals = {r["model"]: r.get(key) for r in rows if r["device"] == d}
            if key in rows[0]:
                series.append((label, vals))
    width = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(models) * max(1, len(series))), 4.5))
    for k, (label, vals) in enumerate(series):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(models))]
        ys = [vals.get(m) or 0.0 for m in models]  # failed runs show as empty
        ax.bar(xs, ys, width, label=label)
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


def _stop_on_signal(signum, frame):
    """SIGTERM/SIGHUP as an exception, so that every finally block (busy
    processes, peer workers, the temporary directory) runs."""
    raise SystemExit(128 + signum)


def main(argv=None):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description="Compare `clcnn bench` with onnxruntime and "
                                 "OpenVINO on the CPU.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("paths", nargs="+", help="case dirs, model.onnx files or zoo dirs")
    ap.add_argument("--clcnn", default=os.path.join(root, "build", "tools", "clcnn"),
                    help="clcnn binary (default: build/tools/clcnn)")
    ap.add_argument("--devices", default="cpu", help="comma-separated clcnn --device values")
    ap.add_argument("--peers", default="onnxruntime,openvino",
                    help="comma-separated peer runtimes (default: onnxruntime,openvino; one "
                    "that is not installed is left out with a message)")
    ap.add_argument("--busy", type=int, default=0, metavar="N",
                    help="also time every runtime in every round with N busy processes "
                    "started by the benchmark (default 0: quiet only)")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per round (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="warmup runs per round (default 2)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="the peers' threads (default: all CPUs, as clcnn's CPU backend "
                    "uses)")
    ap.add_argument("--inputs", choices=("clcnn", "test-data"), default="clcnn",
                    help="the peers' inputs: clcnn (default; the values `clcnn bench` "
                    "uses) or test-data (the case's test_data_set_0)")
    ap.add_argument("--models", help="comma-separated model names (or substrings of them) "
                    "to keep from the paths, e.g. resnet18_op13,mobilenetv2")
    ap.add_argument("--timeout", type=float, default=600,
                    help="seconds per clcnn call or peer request")
    ap.add_argument("--plot", metavar="FILE.png", help="bar chart of the ratios (matplotlib)")
    ap.add_argument("--markdown", metavar="FILE.md", help="write the tables as Markdown")
    ap.add_argument("--json", metavar="FILE.json", help="write all raw results as JSON")
    a = ap.parse_args(argv)
    if min(a.runs, a.rounds, a.threads) < 1 or a.warmup < 0 or a.busy < 0:
        ap.error("--runs, --rounds, --threads must be >= 1, --warmup and --busy >= 0")
    command = "python3 " + shlex.join(sys.argv if argv is None else [sys.argv[0]] + argv)
    try:
        peers, missing = peers_available(
            list(dict.fromkeys(p.strip() for p in a.peers.split(",") if p.strip())))
    except ValueError as e:
        ap.error(f"--peers: {e}")
    for m in missing:
        print(f"note: {m}", file=sys.stderr)

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
        print(f"warning: the peers get {a.threads} threads but clcnn's CPU backend uses "
              f"all {os.cpu_count()} CPUs: the comparison is not like for like",
              file=sys.stderr)
    if not os.path.exists(a.clcnn):
        print(f"warning: {a.clcnn} does not exist; only the peers will be timed",
              file=sys.stderr)

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _stop_on_signal)
    a.load_start = loadavg()
    a.git = git_describe(a.clcnn) if os.path.exists(a.clcnn) else None
    busy = BusyStats()
    tmpdir = tempfile.mkdtemp(prefix="peer_bench_")
    clcnn_path = a.clcnn
    rows = []
    try:
        if os.path.exists(a.clcnn):
            a.clcnn = snapshot(a.clcnn, tmpdir)
        for model_path in cases:
            t0 = time.time()
            r = bench_model(model_path, a, devices, peers, tmpdir, busy)
            rows.extend(r)
            for x in r:
                parts = [f"clcnn {_fmt(x['clcnn']['quiet']['median_ms'])} ms"]
                parts += [f"{PEER_SHORT[p]} {_fmt(x['peers'][p]['quiet']['median_ms'])} ms"
                          for p in peers]
                if a.busy:
                    parts += ["busy: clcnn " + _fmt(x["clcnn"]["busy"]["median_ms"]) + " ms"]
                    parts += [f"{PEER_SHORT[p]} {_fmt(x['peers'][p]['busy']['median_ms'])} ms"
                              for p in peers]
                problems = "; ".join(e for e in [x["error"]] + x["notes"] if e)
                print(f"[{time.time() - t0:6.1f}s] {x['model']} {x['device']}: "
                      + ", ".join(parts) + (f"  ({problems})" if problems else ""),
                      file=sys.stderr, flush=True)
        a.load_end = loadavg()
        if a.markdown:  # the version line: the binary that ran, before it goes
            a.version = clcnn_version(a.clcnn)
    finally:
        a.clcnn = clcnn_path
        shutil.rmtree(tmpdir, ignore_errors=True)
    a.busy_share = busy.share()
    if a.busy:
        if a.busy_share is None:
            print("error: --busy: no busy process ran", file=sys.stderr)
        else:
            print(f"busy processes: {busy.started} started, {a.busy_share:.2f} CPU each "
                  "while they ran", file=sys.stderr)
    print_table(rows, peers, a.busy)
    if a.markdown:
        write_markdown(a.markdown, rows, a, command, peers, missing)
        print(f"wrote {a.markdown}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"command": command, "threads": a.threads, "runs": a.runs,
                       "warmup": a.warmup, "rounds": a.rounds, "busy": a.busy,
                       "busy_cpu_share": a.busy_share, "machine": cpu_summary(),
                       "clcnn_git": a.git, "onnxruntime": ort.__version__,
                       "peers": {p: v for p, (v, _) in peer_versions(rows, peers).items()},
                       "peers_missing": missing, "rows": rows}, f, indent=2)
        print(f"wrote {a.json}")
    if a.plot and write_plot(a.plot, rows, a):
        print(f"wrote {a.plot}")
    ok = all(not r["error"] for r in rows) and (not a.busy or a.busy_share is not None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
