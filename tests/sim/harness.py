"""Test-only runner for the simulator suite (NOT Cairn's sandbox: no isolation, trusted code only).

Reads {"jobs": [{"code", "inputs", "timeout", "expected"?, "entry"?, "canon"?}]} as JSON on stdin and
prints one result per job: {"status": "ok" | "syntax" | "banned" | "nodef", "outcomes": [...]} where
each outcome is {"ok": true, "out": repr} or {"ok": false, "error": "..."}; with "expected", evaluation
stops at the first mismatch and the result carries "pass". "entry" names the function to call
(default f); with "canon" outputs are in the canonical form of Cairn's sandbox driver (imported
from activities/sandbox/driver.py), so they compare with what Cairn's environments expect.
"""
import ast
import importlib.util
import json
import os
import signal
import sys

_DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'activities', 'sandbox', 'driver.py')
_spec = importlib.util.spec_from_file_location('cairn_driver', _DRIVER)
_driver = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_driver)
CANON = _driver.make_canon()

BANNED = {'os', 'sys', 'subprocess', 'random', 'time', 'datetime', 'threading', 'multiprocessing'}


class Timeout(BaseException):
    pass


def on_alarm(_sig, _frame):
    raise Timeout()


signal.signal(signal.SIGALRM, on_alarm)


def limited(fn, seconds):
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_job(job):
    code, timeout = job['code'], job.get('timeout', 0.5)
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return {'status': 'syntax', 'error': str(e), 'outcomes': []}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or '']
        if any(n.split('.')[0] in BANNED for n in names):
            return {'status': 'banned', 'outcomes': []}
    ns = {'__name__': '__sim_test__'}
    try:
        limited(lambda: exec(compile(tree, '<f>', 'exec'), ns), timeout)
    except (Exception, Timeout) as e:
        return {'status': 'nodef', 'error': type(e).__name__, 'outcomes': []}
    f = ns.get(job.get('entry', 'f'))
    show = CANON if job.get('canon') else repr
    if not callable(f):
        return {'status': 'nodef', 'outcomes': []}
    expected = job.get('expected')
    outcomes = []
    passed = True
    for i, inp in enumerate(job['inputs']):
        try:
            args = ast.literal_eval('(' + inp + ',)')
            out = show(limited(lambda: f(*args), timeout))
            outcomes.append({'ok': True, 'out': out})
        except Timeout:
            outcomes.append({'ok': False, 'error': 'Timeout'})
        except RecursionError:
            outcomes.append({'ok': False, 'error': 'RecursionError'})
        except Exception as e:  # the code under test may raise anything
            outcomes.append({'ok': False, 'error': '%s: %s' % (type(e).__name__, e)})
        if expected is not None:
            last = outcomes[-1]
            if not last['ok'] or last['out'] != expected[i]:
                passed = False
                break
    res = {'status': 'ok', 'outcomes': outcomes}
    if expected is not None:
        res['pass'] = passed
    return res


def main():
    jobs = json.load(sys.stdin)['jobs']
    json.dump([run_job(j) for j in jobs], sys.stdout)


if __name__ == '__main__':
    main()
