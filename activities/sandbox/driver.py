"""In-sandbox driver for FUNCTION tests (runs as /usr/bin/python3 -I -S driver.py JOBDIR START).

JOBDIR holds solution.py and job.json (a Python literal: entry, inputs, limits, loadMs, nproc). The
driver execs the solution once, then for each input from START calls entry(*args) under a
SIGALRM limit and writes one JSON line per input on a private dup of fd 1. Expected outputs
never come in here: the host compares, so tampering with this process can only spoil the
solution's own results.

Protocol (one line each): {"t":"hello"} before any solution code runs; {"t":"load",...} after
the module is executed; {"t":"res","i":N,...} per input. Exit 3 = "threads were left running,
restart me at the next input"; any other death is blamed by the host on the running input.

`driver.py --probe` prints what the host's startup probe checks and waits for stdin EOF.

Imports are kept to what every run needs: python start plus imports dominate throughput.
"""
import os
import sys
import time
import _signal

CAP = 64 * 1024            # max canonical output per input, bytes (chars)
ERR_CAP = 500              # max error text per input
MAX_DEPTH = 256            # max nesting of a return value
EXIT_CONTAMINATED = 3
_ERRFD = [2]               # where driver failures are reported (a private dup of fd 2 once set)


class Alarm(BaseException):
    """Raised by the SIGALRM handler. A BaseException so `except Exception` in solutions misses it."""


class TooBig(Exception):
    pass


class Unsupported(Exception):
    pass


def _on_alarm(signum, frame):
    raise Alarm()


# ---------------------------------------------------------------- JSON line output
try:
    from _json import encode_basestring as _jstr
except ImportError:  # pragma: no cover - Debian ships _json; keep a slow path anyway
    _JSON_ESC = {i: "\\u%04x" % i for i in range(32)}
    _JSON_ESC.update({ord('"'): '\\"', ord("\\"): "\\\\"})

    def _jstr(s):
        return '"' + s.translate(_JSON_ESC) + '"'


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# ---------------------------------------------------------------- canonical form
def make_canon(_type=type, _repr_int=int.__repr__, _repr_float=float.__repr__,
               _repr_str=str.__repr__, _repr_bytes=bytes.__repr__, _sorted=sorted, _len=len,
               _isnan=lambda x: x != x):
    """Builds the canonicalizer with every builtin it uses bound now, before solution code runs,
    so a solution that patches builtins (repr, sorted, type...) cannot change how it is judged."""
    inf = float("inf")
    special = {"inf": "float('inf')", "-inf": "float('-inf')"}

    def canon(value):
        used = [0]

        def leaf(s):
            used[0] += _len(s) + 2  # +2: separator ", " that follows it in its container
            if used[0] > CAP:
                raise TooBig()
            return s

        def walk(v, depth):
            if depth > MAX_DEPTH:
                raise Unsupported("return value nested deeper than %d levels" % MAX_DEPTH)
            t = _type(v)
            if v is None:
                return leaf("None")
            if t is bool:
                return leaf("True" if v else "False")
            if t is int:
                bits = v.bit_length()
                if bits > CAP * 3.33:
                    raise TooBig()
                if bits > 14000:  # past Python's 4300-digit str() guard: lift it just for this
                    old = sys.get_int_max_str_digits()
                    sys.set_int_max_str_digits(0)
                    try:
                        return leaf(_repr_int(v))
                    finally:
                        sys.set_int_max_str_digits(old)
                return leaf(_repr_int(v))
            if t is float:
                if _isnan(v):
                    return leaf("float('nan')")
                if v == inf or v == -inf:
                    return leaf(special[_repr_float(v)])
                return leaf(_repr_float(v))
            if t is str:
                if _len(v) > CAP:
                    raise TooBig()
                return leaf(_repr_str(v))
            if t is bytes:
                if _len(v) > CAP:
                    raise TooBig()
                return leaf(_repr_bytes(v))
            if t is list:
                leaf("[]")
                return "[" + ", ".join([walk(x, depth + 1) for x in v]) + "]"
            if t is tuple:
                leaf("()")
                items = [walk(x, depth + 1) for x in v]
                return "(" + items[0] + ",)" if _len(items) == 1 else "(" + ", ".join(items) + ")"
            if t is dict:
                leaf("{}")
                pairs = _sorted([(walk(k, depth + 1), walk(x, depth + 1)) for k, x in v.items()])
                return "{" + ", ".join([k + ": " + x for k, x in pairs]) + "}"
            if t is set or t is frozenset:
                leaf("frozenset({})")
                items = _sorted([walk(x, depth + 1) for x in v])
                if t is set:
                    return "{" + ", ".join(items) + "}" if items else "set()"
                return "frozenset({" + ", ".join(items) + "})" if items else "frozenset()"
            raise Unsupported("unsupported return type " + _type_name(t))

        return walk(value, 0)

    return canon


def _type_name(t):
    try:
        name = type.__dict__["__qualname__"].__get__(t)
    except BaseException:
        name = "?"
    return name if type(name) is str else "?"


def describe(exc):
    """'TypeName: message', truncated; never raises (solution exceptions may have hostile __str__)."""
    name = _type_name(type(exc))
    try:
        msg = str(exc)
        if type(msg) is not str:
            msg = ""
    except BaseException:
        msg = "<unprintable>"
    text = name + ": " + msg if msg else name
    return text if len(text) <= ERR_CAP else text[: ERR_CAP - 3] + "..."


# ---------------------------------------------------------------- process hygiene
def in_sandbox():
    """True only as a non-root uid that is pid 1 of its own pid namespace (bwrap --as-pid-1).
    kill(-1) run as root on a host kills every process of the machine, so the sweep must never
    run anywhere else."""
    if os.getuid() == 0 or os.geteuid() == 0:
        return False
    return os.getpid() == 1


def make_hygiene(me, _kill=os.kill, _waitpid=os.waitpid, _listdir=os.listdir, _sleep=time.sleep,
                 _WNOHANG=os.WNOHANG, _in_sandbox=in_sandbox):
    """Returns (sweep, threads_alive) with the os functions bound now, before solution code could
    replace them (`os` is shared with the solution)."""

    def reap():
        for _ in range(1000):
            try:
                pid, _status = _waitpid(-1, _WNOHANG)
            except OSError:  # ChildProcessError: no children left
                return
            if pid == 0:
                return  # children not dead yet: the next sweep round handles them

    def sweep():
        """Kills every other process of the sandbox (forked children, setsid daemons), reaps ours."""
        if not _in_sandbox():
            return
        for _ in range(50):  # a fork bomb may fork between kill() and our look: repeat until empty
            try:
                _kill(-1, 9)
            except OSError:
                pass
            reap()
            if not [p for p in _listdir("/proc") if p.isdigit() and p != "1" and p != me]:
                return
            _sleep(0.001)

    def threads_alive():
        try:
            return len(_listdir("/proc/self/task")) > 1
        except OSError:
            return False

    return sweep, threads_alive


# ---------------------------------------------------------------- main
def probe(chan):
    def field(name):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(name + ":"):
                    return line.split(":", 1)[1].strip()
        return ""

    with open("/proc/net/dev") as fh:
        ifaces = [ln.split(":", 1)[0].strip() for ln in fh.readlines()[2:] if ":" in ln]
    with open("/proc/1/comm") as fh:
        pid1 = fh.read().strip()
    line = '{"t":"probe","pid":%d,"uid":%d,"ifaces":[%s],"pid1":%s,"seccomp":%s,"nnp":%s,"py":%s}\n' % (
        os.getpid(), os.getuid(), ",".join(_jstr(x) for x in ifaces), _jstr(pid1),
        _jstr(field("Seccomp")), _jstr(field("NoNewPrivs")), _jstr(sys.version.split()[0]))
    _write_all(chan, line.encode())
    while os.read(0, 4096):  # the host reads /proc/<pid>/status meanwhile, then closes stdin
        pass
    return 0


def main(argv):
    # Private channel to the host; fds 0-2 become /dev/null so prints never reach it.
    chan = os.dup(1)
    if argv[1:2] == ["--probe"]:
        return probe(chan)
    _ERRFD[0] = os.dup(2)
    # Warm start ("wait" instead of START): the sandbox is started ahead of its job and waits for
    # one line "START BASE" on stdin, the host's go; the job files are written into the job dir
    # (bound read-only here) just before it.
    warm = argv[2:3] == ["wait"]
    ctl = os.dup(0) if warm else -1
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    job_dir = argv[1]

    # Bind everything the loop uses to locals now (see make_canon).
    canon = make_canon()
    # Per-input CPU is the calling thread's: the process clock (time.process_time) only advances at
    # scheduler ticks while RLIMIT_CPU is armed, so tiny inputs would all read 0. "tot" (for the
    # host's estimate when an input kills the sandbox) stays process-wide.
    perf, cpu, tot = time.perf_counter, time.thread_time, time.process_time
    setitimer, ITIMER_REAL, ITIMER_PROF = _signal.setitimer, _signal.ITIMER_REAL, _signal.ITIMER_PROF
    jstr, _exit, getpid, write = _jstr, os._exit, os.getpid, os.write
    mypid = getpid()
    sweep, threads_alive = make_hygiene(str(mypid))

    def emit(text):
        view = memoryview(text.encode("utf-8", "backslashreplace"))
        while view:
            view = view[write(chan, view):]

    h0 = tot()  # the attempt's CPU counts from here (python start is the sandbox's, not the code's)
    emit('{"t":"hello","tot":%.3f}\n' % (h0 * 1000.0))
    import ast  # after hello: it is the one costly import, and a broken stdlib is still "infra"
    import resource
    literal_eval = ast.literal_eval
    if warm:
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(ctl, 256)
            if not chunk:
                _exit(0)  # the host discarded this sandbox unused
            line += chunk
        os.close(ctl)
        go = line.split()
    else:
        go = argv[2:4]
    start = int(go[0])
    # CPU already spent by this attempt in earlier sandboxes (module loads and inputs), ms.
    base = float(go[1]) if len(go) > 1 else 0.0
    with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as fh:
        job = literal_eval(fh.read())
    with open(os.path.join(job_dir, "solution.py"), "rb") as fh:
        source = fh.read()
    inputs, limits, entry = job["inputs"], job["limits"], job["entry"]
    walls = job.get("walls") or limits
    # The whole attempt's CPU budget: module load and every input draw from it, so answers
    # precomputed at import time cannot escape the per-input limits.
    budget = job.get("budgetMs") or sum(limits)
    fail_fast = job.get("failFast") == 1
    nproc = job.get("nproc")
    # RLIMIT_CPU for this attempt's remaining budget (a warm sandbox was started with a loose one).
    cpu_s = int(tot() + max(0.0, budget - base) / 1000.0) + 3
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if soft == resource.RLIM_INFINITY or cpu_s < soft:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    if nproc:
        # Per-sandbox process cap: since Linux 5.14 RLIMIT_NPROC is counted per user namespace,
        # and each sandbox has its own, so sandboxes sharing a host uid (user mode) cannot
        # starve each other; prlimit's host-level value stays the uid-wide backstop.
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    _signal.signal(_signal.SIGALRM, _on_alarm)
    # CPU time (user + system, all threads) is the limit; the wall timer only catches code that
    # sleeps or blocks, so a loaded machine does not decide verdicts.
    _signal.signal(_signal.SIGPROF, _on_alarm)

    # Load the module once. Its __name__ is not "__main__", so the demo blocks LLM code often
    # ends with (guarded by a __main__ check, and usually reading stdin) do not run.
    ns = {"__name__": "solution", "__builtins__": __builtins__}
    load_ms = job["loadMs"]
    load_cpu_cap = min(load_ms, budget - base - (tot() - h0) * 1000.0)
    t0, c0, p0, status, err = perf(), cpu(), tot(), "ok", ""
    try:
        if load_cpu_cap <= 0:
            raise Alarm()
        setitimer(ITIMER_PROF, load_cpu_cap / 1000.0)
        setitimer(ITIMER_REAL, load_ms / 1000.0)
        try:
            exec(compile(source, "solution.py", "exec"), ns)
        finally:
            setitimer(ITIMER_REAL, 0)
            setitimer(ITIMER_PROF, 0)
    except Alarm:
        status, err = "timeout", "time limit exceeded while loading the module"
    except MemoryError:
        status, err = "memory_limit", "MemoryError while loading the module"
    except BaseException as e:  # includes SyntaxError and SystemExit at import
        status, err = "error", describe(e)
    # The alarm is only a fast path: code that caught or ignored it is judged on the time it took.
    lms, lcms = (perf() - t0) * 1000.0, max(cpu() - c0, tot() - p0) * 1000.0
    used = base + (tot() - h0) * 1000.0
    if status != "timeout" and (lcms > load_ms or lms > load_ms):
        status, err = "timeout", "time limit exceeded while loading the module (%.0f ms of CPU, %.0f ms wall, limit %d ms)" % (
            lcms, lms, load_ms)
    elif status != "timeout" and used > budget:
        status, err = "timeout", "attempt time budget exceeded while loading the module (%.0f ms of CPU, budget %d ms)" % (
            used, budget)
    fn, make = None, None
    if status == "ok":
        fn = ns.get(entry)
        cls = ns.get("Solution")
        if not callable(fn) and type(cls) is type and callable(getattr(cls, entry, None)):
            make = cls  # LeetCode style: a fresh Solution() per input
        elif not callable(fn):
            status, err = "error", "NameError: no function %r defined" % entry
    if getpid() != mypid:
        _exit(0)
    sweep()
    # "tot" (process CPU so far) lets the host estimate the CPU of an input that kills the sandbox.
    emit('{"t":"load","status":"%s","error":%s,"ms":%.3f,"cpu":%.3f,"tot":%.3f}\n'
         % (status, jstr(err), lms, lcms, tot() * 1000.0))
    if status != "ok":
        _exit(0)

    for i in range(start, len(inputs)):
        out, err, status = "", "", "ok"
        try:
            text = inputs[i]
            args = literal_eval("(" + text + ",)") if text.strip() else ()
        except BaseException as e:
            status, err = "error", "bad input: " + describe(e)
        t0, c0, p0, pms = perf(), cpu(), tot(), 0.0
        used = base + (tot() - h0) * 1000.0
        cap = min(limits[i], budget - used)
        if status == "ok" and cap <= 0:
            status, err = "timeout", "attempt time budget exceeded (%.0f ms of CPU used, budget %d ms)" % (used, budget)
        if status == "ok":
            try:
                # Re-armed per input: an earlier input or the module may have replaced them.
                _signal.signal(_signal.SIGALRM, _on_alarm)
                _signal.signal(_signal.SIGPROF, _on_alarm)
                setitimer(ITIMER_PROF, cap / 1000.0)
                setitimer(ITIMER_REAL, walls[i] / 1000.0)
                try:
                    f = getattr(make(), entry) if make is not None else fn
                    out = canon(f(*args))
                except TooBig:
                    status, err = "output_limit", "return value larger than %d bytes" % CAP
                except Unsupported as e:
                    status, err = "error", e.args[0]
                except MemoryError:
                    status, err = "memory_limit", "MemoryError"
                except Alarm:
                    raise
                except BaseException as e:
                    status, err = "error", describe(e)
                finally:
                    setitimer(ITIMER_REAL, 0)
                    setitimer(ITIMER_PROF, 0)
            except Alarm:
                status, err, out = "timeout", "time limit exceeded", ""
            except MemoryError:
                status, err, out = "memory_limit", "MemoryError", ""
            except BaseException as e:  # e.g. a hostile __str__ raised while being described
                status, err, out = "error", "error while reporting: " + _type_name(type(e)), ""
        if getpid() != mypid:
            _exit(0)  # a fork()ed child of the solution returned into the driver: it must not report
        # Thread CPU is exact; process CPU (tick-granular) also counts threads the code started.
        ms, cms, pms = (perf() - t0) * 1000.0, (cpu() - c0) * 1000.0, (tot() - p0) * 1000.0
        used = base + (tot() - h0) * 1000.0
        if status not in ("timeout", "memory_limit", "output_limit"):
            # Measured, not signalled: code that caught or ignored the alarm still timed out.
            if cms > limits[i] or pms > limits[i] or ms > walls[i]:
                status, out = "timeout", ""
                err = "time limit exceeded (%.0f ms of CPU, %.0f ms wall; limit %d ms of CPU, %d ms wall)" % (
                    max(cms, pms), ms, limits[i], walls[i])
            elif used > budget:
                status, out = "timeout", ""
                err = "attempt time budget exceeded (%.0f ms of CPU at load and inputs, budget %d ms)" % (used, budget)
        sweep()
        emit('{"t":"res","i":%d,"status":"%s","out":%s,"error":%s,"ms":%.3f,"cpu":%.3f,"pcpu":%.3f,"tot":%.3f}\n'
             % (i, status, jstr(out), jstr(err), ms, cms, pms, tot() * 1000.0))
        if fail_fast and status != "ok":
            for j in range(i + 1, len(inputs)):
                emit('{"t":"res","i":%d,"status":"skipped","out":"","error":"not run: an earlier input failed","ms":0,"cpu":0,"tot":%.3f}\n'
                     % (j, tot() * 1000.0))
            break
        if threads_alive():
            _exit(EXIT_CONTAMINATED)
    # Skip interpreter teardown (and any atexit hooks the solution registered).
    _exit(0)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BaseException:
        # A driver bug or a broken job dir (never solution code: that runs inside try blocks).
        # fd 2 may point at /dev/null by now, so write to the saved copy for the host's log.
        import traceback
        text = traceback.format_exc().encode("utf-8", "backslashreplace")
        try:
            os.write(_ERRFD[0], text[-4000:])
        except OSError:
            pass
        os._exit(70)
