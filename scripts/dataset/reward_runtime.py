# ---- the reward (scripts/dataset/reward_runtime.py) ----
# Needs, from the parts written before it in cairn_reward.py: parse_student and compare_outcomes
# (activities/environments/answers.py, the code Cairn's student activity and grader run) and
# _DRIVER_SOURCE (activities/sandbox/driver.py, the driver Cairn's sandbox runs).
import json as _json
import os as _os
import subprocess as _subprocess
import sys as _sys
import tempfile as _tempfile

SENTINEL = "\x00cairn-answer\x00"
_GRACE_MS = 2000
_OUT_CAP = 16 << 20
# The driver, run outside bwrap: its kill(-1) sweep must never run here (it only runs under
# bwrap's pid 1, but a trainer may itself run under bwrap), so hygiene is switched off.
_BOOT = (
    "import os, resource, sys\n"
    "mem, cpu, fsize = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])\n"
    "for lim, val in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, fsize),\n"
    "                 (resource.RLIMIT_CORE, 0), (resource.RLIMIT_NOFILE, 64)):\n"
    "    try:\n"
    "        resource.setrlimit(lim, (val, val))\n"
    "    except (ValueError, OSError):\n"
    "        pass\n"
    "ns = {'__name__': 'cairn_driver'}\n"
    "exec(compile(open(sys.argv[1], encoding='utf-8').read(), 'driver.py', 'exec'), ns)\n"
    "_mh = ns['make_hygiene']\n"
    "ns['make_hygiene'] = lambda me: _mh(me, _in_sandbox=lambda: False)\n"
    "try:\n"
    "    sys.exit(ns['main']([sys.argv[1], sys.argv[2], sys.argv[3]]))\n"
    "except SystemExit:\n"
    "    raise\n"
    "except BaseException:\n"
    "    os._exit(70)\n"
)
_driver_file = [None]


def _driver_path():
    if _driver_file[0] is None or not _os.path.exists(_driver_file[0]):
        fd, p = _tempfile.mkstemp(prefix="cairn-driver-", suffix=".py")
        with _os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_DRIVER_SOURCE)
        _driver_file[0] = p
    return _driver_file[0]


def _python():
    return _os.environ.get("CAIRN_REWARD_PYTHON") or _sys.executable or "python3"


def _run_from(job_dir, start, n, limits, walls, load_ms, memory_mb):
    """Runs the driver on inputs start.. and returns (results by index, exit code)."""
    out_path = _os.path.join(job_dir, "chan.%d" % start)
    cpu_s = int((load_ms + sum(limits[start:])) / 1000) + 2
    wall_s = (load_ms + sum(walls[start:]) + _GRACE_MS) / 1000.0
    with open(out_path, "wb") as out:
        # The child sets its own rlimits before the driver loads (no preexec_fn: unsafe in threaded trainers).
        mem = (memory_mb + 128) << 20  # virtual, not resident: headroom for the interpreter's mappings
        p = _subprocess.Popen([_python(), "-I", "-S", "-c", _BOOT, _driver_path(), job_dir, str(start), str(mem), str(cpu_s), str(_OUT_CAP)],
                              stdin=_subprocess.DEVNULL, stdout=out, stderr=_subprocess.DEVNULL, cwd=job_dir,
                              start_new_session=True, close_fds=True)
        try:
            code = p.wait(timeout=wall_s)
        except _subprocess.TimeoutExpired:
            code = None
        finally:
            try:
                _os.killpg(p.pid, 9)  # the driver and anything the answer forked
            except OSError:
                pass
            p.wait()
    # Lines count only in protocol order (hello, load, then res for start, start+1, ...): anything
    # else is a protocol violation, as on Cairn's host, and ends the run there.
    results, hello, loaded, nxt = {}, False, False, start
    with open(out_path, "rb") as fh:
        for raw in fh.read(_OUT_CAP).split(b"\n"):
            if not raw:
                continue
            try:
                msg = _json.loads(raw.decode("utf-8"))
            except ValueError:
                break
            t = msg.get("t") if isinstance(msg, dict) else None
            if t == "hello" and not hello:
                hello = True
            elif t == "load" and hello and not loaded:
                loaded = True
                if msg.get("status") != "ok":
                    for i in range(start, n):
                        results[i] = (msg.get("status"), None)
                    break
            elif t == "res" and loaded and msg.get("i") == nxt:
                out = msg.get("out")
                results[nxt] = (msg.get("status"), out if isinstance(out, str) else None)
                nxt += 1
            else:
                break
    return results, code, hello


def run_job(code, entry, inputs, time_limit_ms, wall_factor=3, memory_mb=256):
    """The outcome ({"status", "out"}) of `entry` on each input, run by Cairn's driver in a
    subprocess; stops at the first input that fails ("skipped" after it), as Cairn's grader does."""
    n = len(inputs)
    limits = [time_limit_ms] * n
    walls = [int(round(l * wall_factor)) for l in limits]
    load_ms = max(1000, *limits) if limits else 1000
    job = {"entry": entry, "inputs": inputs, "limits": limits, "walls": walls, "loadMs": load_ms, "nproc": 64, "failFast": 1}
    with _tempfile.TemporaryDirectory(prefix="cairn-reward-") as d:
        with open(_os.path.join(d, "solution.py"), "w", encoding="utf-8", errors="surrogatepass") as fh:
            fh.write(code)
        with open(_os.path.join(d, "job.json"), "w", encoding="utf-8") as fh:
            fh.write(_json.dumps(job, ensure_ascii=False))  # JSON numbers/strings/lists/dicts only: also a Python literal, as the host writes it
        outs, start = [{"status": "skipped"} for _ in range(n)], 0
        while start < n:
            res, exit_code, hello = _run_from(d, start, n, limits, walls, load_ms, memory_mb)
            if not hello:
                raise RuntimeError("cairn_reward: the Python driver did not start (%s)" % _python())
            nxt = start
            while nxt < n and nxt in res:
                status, out = res[nxt]
                outs[nxt] = {"status": status, "out": out}
                if status != "ok":
                    return outs
                nxt += 1
            if nxt >= n:
                break
            if exit_code == 3 and nxt > start:
                start = nxt  # "threads were left running": restart at the next input, blaming none
                continue
            outs[nxt] = {"status": "error"}  # the process died on input nxt: a failed input, so a failed attempt
            return outs
        return outs


def _job(gt, answer):
    sub = lambda s: s.replace(SENTINEL, answer)
    return sub(gt["code"]), gt["entry"], [sub(i) for i in gt["inputs"]], gt["expected"]


def grade(completion, ground_truth):
    """1.0 iff the answer in `completion` earns Cairn's reward on the problem in `ground_truth`."""
    gt = _json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    if "env" not in gt and isinstance(gt.get("cairn"), dict):
        gt = gt["cairn"]  # --ground-truth apps: the APPS fields for verl's scorer, Cairn's job beside them
    ok, answer = parse_student(gt["env"], completion)
    if not ok:
        return 0.0
    code, entry, inputs, expected = _job(gt, answer)
    if not inputs:
        return 0.0
    outcomes = run_job(code, entry, inputs, gt.get("time_limit_ms", 2000), gt.get("wall_factor", 3), gt.get("memory_mb", 256))
    return 1.0 if compare_outcomes(outcomes, expected)[2] else 0.0


def _text(completion):
    """A completion as text: a string, or chat messages (TRL's conversational format)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    if isinstance(completion, (list, tuple)):
        return "".join(_text(m) for m in completion if not isinstance(m, dict) or m.get("role", "assistant") == "assistant")
    return str(completion)


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """verl: custom_reward_function.path=cairn_reward.py custom_reward_function.name=compute_score."""
    return grade(solution_str, ground_truth)


def cairn_reward(completions, ground_truth, **kwargs):
    """TRL (GRPOTrainer reward_funcs=[cairn_reward]): the dataset's ground_truth column arrives as a keyword."""
    return [grade(_text(c), g) for c, g in zip(completions, ground_truth)]


_EOS_TAIL = None


def _response(query, prompt):
    import re
    global _EOS_TAIL
    if _EOS_TAIL is None:
        _EOS_TAIL = re.compile(r"(?:<\|[A-Za-z0-9_]+\|>|</s>|<eos>|<\|endoftext\|>)+\s*\Z")
    r = query[len(prompt):] if query.startswith(prompt) else query
    return _EOS_TAIL.sub("", r)


def reward_func(queries, prompts, labels):
    """OpenRLHF (--remote_rm_url cairn_reward.py --label_key label): rewards and scores in [0, 1]."""
    scores = [grade(_response(q, p), l) for q, p, l in zip(queries, prompts, labels)]
    try:
        import torch
    except ImportError:
        return {"rewards": scores, "scores": scores}
    t = torch.tensor(scores, dtype=torch.float32)
    return {"rewards": t, "scores": t}


if __name__ == "__main__":
    # python cairn_reward.py < lines of {"completion": ..., "ground_truth": ...}  ->  one score per line
    for line in _sys.stdin:
        if line.strip():
            req = _json.loads(line)
            print(_json.dumps(grade(req["completion"], req["ground_truth"])), flush=True)
