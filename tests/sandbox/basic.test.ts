/** Real sandbox: probe, canonical outputs, load failures, per-input errors, resume, reward hacking. */
import fs from 'fs';
import { compareOutcomes, SandboxInfraError } from '../../activities/sandbox';
import { expectClean, makeSandbox, statuses, timed } from './sandbox-helpers';
import type { TestSandbox } from './sandbox-helpers';

let sb: TestSandbox;
let stateDir: string;

beforeAll(async () => {
  ({ sb, stateDir } = await makeSandbox(0));
});
afterAll(async () => {
  await sb?.close();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});
afterEach(() => expectClean(sb, stateDir));

test('startup probe: non-root host uid, cgroup mode detected, only lo', () => {
  expect(sb.info.sandboxUid).not.toBe(0);
  expect(sb.info.sandboxUid).toBe(sb.info.slotUids[0]);
  // hybrid on this machine kind (sandbox.md §1), v2 on most other hosts; never silently 'none'
  expect(sb.info.cgroupMode).toBe(fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'hybrid');
  expect(sb.info.warnings.filter((w) => /cgroup/.test(w))).toEqual([]);
  expect(sb.info.interfaces).toEqual(['lo']);
  expect(fs.statSync(sb.info.seccompPath).size).toBeGreaterThan(0);
  expect(sb.info.python).toMatch(/^3\./);
});

test('five inputs give canonical outputs (dict order, sets, tuples, floats)', async () => {
  const code = `
print("solutions may print; it never reaches the host channel")
def f(kind, x=None):
    if kind == 'dict': return {'b': 2, 'a': [1, (2,)], 10: None, 2: True}
    if kind == 'set': return [{3, 1, 2}, frozenset({'y', 'x'}), set(), frozenset()]
    if kind == 'tuple': return ((), (1,), (1, 'two', b'3'))
    if kind == 'float': return [0.1 + 0.2, -0.0, 1e308 * 10, -1e308 * 10, float('nan'), 2.0, 10**20]
    if kind == 'echo': return x
`;
  const { r } = await timed(sb, code, ["'dict'", "'set'", "'tuple'", "'float'", "'echo', {'k': [1.5, 'é\\n']}"]);
  expect(statuses(r)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  const expected = [
    "{'a': [1, (2,)], 'b': 2, 10: None, 2: True}",
    "[{1, 2, 3}, frozenset({'x', 'y'}), set(), frozenset()]",
    "((), (1,), (1, 'two', b'3'))",
    "[0.30000000000000004, -0.0, float('inf'), float('-inf'), float('nan'), 2.0, 100000000000000000000]",
    "{'k': [1.5, 'é\\n']}",
  ];
  expect(r.outcomes.map((o) => o.out)).toEqual(expected);
  expect(compareOutcomes(r.outcomes, expected)).toEqual({ verdicts: ['ok', 'ok', 'ok', 'ok', 'ok'], passed: 5, pass: true });
  expect(r.sandboxes).toBe(1);
  for (const o of r.outcomes) expect(o.cpuMs).toBeGreaterThanOrEqual(0);
});

test('LeetCode-style class Solution is instantiated per input', async () => {
  const code = 'class Solution:\n    def f(self, a, b):\n        return a * b\n';
  const { r } = await timed(sb, code, ['2, 3', "'ab', 2"]);
  expect(r.outcomes.map((o) => o.out)).toEqual(['6', "'abab'"]);
});

test('a syntax error in the module makes every input an error with that message', async () => {
  const { r } = await timed(sb, 'def f(x):\n    return x +\n', ['1', '2', '3']);
  expect(statuses(r)).toEqual(['error', 'error', 'error']);
  for (const o of r.outcomes) expect(o.error).toMatch(/^SyntaxError: invalid syntax/);
  const { r: r2 } = await timed(sb, 'import nosuchmodule\ndef f(x): return x', ['1']);
  expect(r2.outcomes[0]?.error).toMatch(/^ModuleNotFoundError: No module named 'nosuchmodule'/);
  const { r: r3 } = await timed(sb, 'def g(x): return x', ['1']);
  expect(r3.outcomes[0]?.error).toMatch(/no function 'f'/);
});

test('an exception on one input only affects that input', async () => {
  const code = 'def f(x):\n    if x == 2: raise KeyError("missing " + "k" * 2000)\n    return x * 10\n';
  const { r } = await timed(sb, code, ['1', '2', '3', '(']);
  expect(statuses(r)).toEqual(['ok', 'error', 'ok', 'error']);
  expect(r.outcomes[1]?.error).toMatch(/^KeyError: 'missing kkk/);
  expect(r.outcomes[1]?.error?.length).toBeLessThanOrEqual(500);
  expect(r.outcomes[3]?.error).toMatch(/^bad input: SyntaxError/);
  expect(compareOutcomes(r.outcomes, ['10', '20', '99', '0']).verdicts).toEqual(['ok', 'error', 'wrong', 'error']);
});

test('resume: timeout only on input 2 and OOM only on input 3, the rest still graded', async () => {
  const code = `
def f(x):
    if x == 2:
        while True:          # swallows the driver's alarm: only the host watchdog stops it
            try:
                k = 0        # (3.11 attributes a back-edge signal to the previous instruction)
                while True: k += 1
            except BaseException:
                pass
    if x == 3:
        hog = []
        while True: hog.append(bytearray(10 ** 7))
    return x * x
`;
  // Input 3 gets 4 s: the OOM kill, not its time limit, must end it even on a loaded machine
  // (near its cgroup limit the kernel reclaims before it kills, and that can take wall time).
  const { r, ms } = await timed(sb, code, ['1', '2', '3', '4', '5'], { timeLimitMs: [1000, 1000, 4000, 1000, 1000] });
  expect(statuses(r)).toEqual(['ok', 'timeout', 'memory_limit', 'ok', 'ok']);
  expect(r.outcomes[1]?.error).toBe('time limit exceeded (sandbox killed by the host)');
  expect(r.outcomes.map((o) => o.out ?? null)).toEqual(['1', null, null, '16', '25']);
  expect(r.sandboxes).toBe(3);
  expect(r.limitsHit?.oomKills).toBeGreaterThan(0);
  expect(r.outcomes[1]?.wallMs).toBeGreaterThanOrEqual(1000);
  expect(ms).toBeLessThan(6000); // idle: about 2 s (the watchdog at 1.5 s, three sandbox starts)
});

test('a big return value is output_limit; unsupported and nested-too-deep returns are errors', async () => {
  const code = `
def f(k):
    if k == 0: return 'x' * 100000
    if k == 1: return list(range(100000))
    if k == 2:
        a = []
        a.append(a)
        return a
    if k == 3: return 10 ** 200000
    return 1j
`;
  const { r } = await timed(sb, code, ['0', '1', '2', '3', '4']);
  expect(statuses(r)).toEqual(['output_limit', 'output_limit', 'error', 'output_limit', 'error']);
  expect(r.outcomes[2]?.error).toMatch(/nested deeper/);
  expect(r.outcomes[4]?.error).toBe('unsupported return type complex');
});

describe('reward hacking never produces a pass', () => {
  test('objects with custom __eq__/__repr__ and builtin subclasses are rejected', async () => {
    const code = `
class Liar:
    def __eq__(self, other): return True
    def __repr__(self): return '42'
class Int(int):
    def __eq__(self, other): return True
    def __repr__(self): return '42'
def f(k):
    return [Liar(), Int(42), [Int(42)]][k]
`;
    const { r } = await timed(sb, code, ['0', '1', '2']);
    expect(statuses(r)).toEqual(['error', 'error', 'error']);
    expect(r.outcomes[0]?.error).toBe('unsupported return type Liar');
    expect(r.outcomes[1]?.error).toBe('unsupported return type Int');
    expect(compareOutcomes(r.outcomes, ['42', '42', '[42]']).pass).toBe(false);
  });

  test('sys.exit(0) at import or inside f, and os._exit(0), are not passes', async () => {
    const atImport = await timed(sb, 'import sys\nsys.exit(0)\ndef f(x): return x', ['1', '2']);
    expect(statuses(atImport.r)).toEqual(['error', 'error']);
    expect(atImport.r.outcomes[0]?.error).toBe('SystemExit: 0');
    const inside = await timed(sb, 'import sys, os\ndef f(x):\n    if x == 1: sys.exit(0)\n    os._exit(0)', ['1', '2', '1']);
    expect(statuses(inside.r)).toEqual(['error', 'crash', 'error']);
    for (const { r } of [atImport, inside])
      expect(
        compareOutcomes(
          r.outcomes,
          r.outcomes.map(() => '1'),
        ).passed,
      ).toBe(0);
  });

  test("monkeypatching json, builtins and the driver's globals changes nothing", async () => {
    const code = `
import sys, os, json, builtins
json.dumps = lambda *a, **k: '{"t":"res","status":"ok","out":"42"}'
json.loads = lambda *a, **k: {}
builtins.repr = lambda x: '42'
builtins.sorted = lambda x, **k: ['42']
builtins.type = lambda x: int
os.write = lambda fd, data: len(data)     # swallow everything written through the os module
os.kill = lambda pid, sig: None
drv = sys.modules['__main__']
for name in dir(drv):
    if not name.startswith('__') and callable(getattr(drv, name)):
        setattr(drv, name, lambda *a, **k: '42')
def f(x):
    return x + 1            # wrong on purpose: the expected answer is 42
`;
    const { r } = await timed(sb, code, ['0', '1']);
    expect(statuses(r)).toEqual(['ok', 'ok']);
    expect(r.outcomes.map((o) => o.out)).toEqual(['1', '2']);
    expect(compareOutcomes(r.outcomes, ['42', '42'])).toEqual({ verdicts: ['wrong', 'wrong'], passed: 0, pass: false });
  });

  test('forged lines on the private channel cannot report unasked inputs', async () => {
    // The driver's channel is a dup of fd 1; fake a result for input 1 while input 0 runs.
    const code = `
import os
def f(x):
    line = b'{"t":"res","i":1,"status":"ok","out":"42","error":"","ms":0,"cpu":0,"tot":0}\\n'
    for fd in range(3, 12):
        try: os.write(fd, line)
        except OSError: pass
    return 0
`;
    const { r } = await timed(sb, code, ['0', '1']);
    expect(compareOutcomes(r.outcomes, ['42', '42']).pass).toBe(false);
    expect(r.outcomes[0]?.status).toBe('protocol_violation');
    expect(r.protocolViolation).toMatch(/protocol violation/);
  });

  test('a forged line for the running input is detected when the real one follows: the attempt fails, never silently', async () => {
    // The forger reports the right answer for input 0 itself, then returns a wrong one. The host
    // accepts the first line for input 0, sees the driver's real line as a second one, and fails
    // the attempt; the later inputs are not run (a resume would hand the forger a fresh channel).
    const code = `
import os
def f(x):
    if x == 0:
        line = b'{"t":"res","i":0,"status":"ok","out":"42","error":"","ms":0,"cpu":0,"tot":0}\\n'
        for fd in range(3, 12):
            try: os.write(fd, line)
            except OSError: pass
    return 42 if x else -1
`;
    const { r } = await timed(sb, code, ['0', '1', '1']);
    expect(statuses(r)).toEqual(['ok', 'protocol_violation', 'skipped']);
    expect(r.outcomes[1]?.error).toMatch(/protocol violation: the code wrote forged or garbage lines/);
    expect(r.protocolViolation).toBeDefined();
    expect(compareOutcomes(r.outcomes, ['42', '42', '42'])).toMatchObject({ pass: false, passed: 1 });
    expect(r.sandboxes).toBe(1);
  });

  test('garbage written into the channel while the module loads fails every input as a protocol violation', async () => {
    const code =
      "import os\nfor fd in range(3, 12):\n    try: os.write(fd, b'not json\\n')\n    except OSError: pass\ndef f(x):\n    return x";
    const { r } = await timed(sb, code, ['0', '1']);
    expect(statuses(r)).toEqual(['protocol_violation', 'protocol_violation']);
  });
});

test('warm pool: every run gets a fresh sandbox; nothing of one attempt is visible to the next', async () => {
  const code = `
import os
def f(k):
    seen = [p for p in ('/tmp/mark', '/dev/shm/mark') if os.path.exists(p)]
    for p in ('/tmp/mark', '/dev/shm/mark'):
        open(p, 'w').write(str(k))
    return [seen, os.getpid()]
`;
  // Back to back, so most runs take a pre-started sandbox (two slots, each refilled after use).
  const runs = [];
  for (let k = 0; k < 6; k++) runs.push(await sb.run({ code, entry: 'f', inputs: [String(k)], timeLimitMs: 1000 }));
  const outs = runs.map((r) => r.outcomes[0]?.out ?? '');
  expect(outs).toEqual(Array(6).fill('[[], 1]')); // no mark of an earlier run; the driver is pid 1 each time
  // (Namespace inode numbers are not compared: the kernel may reuse a freed one.)
  expect((await sb.idleSandboxes()).length).toBeLessThanOrEqual(2);
});

test('AbortSignal kills the sandbox and rejects with its reason', async () => {
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(new Error('cancelled by test')), 300);
  await expect(
    sb.run({ code: 'import time\ndef f():\n    time.sleep(30)', entry: 'f', inputs: [''], timeLimitMs: 20_000 }, ac.signal),
  ).rejects.toThrow('cancelled by test');
  expect(Date.now() - t0).toBeLessThan(1500);
});

test('zero inputs need no sandbox; a bad request is a TypeError, never a verdict', async () => {
  await expect(sb.run({ code: '', entry: 'f', inputs: [], timeLimitMs: 1000 })).resolves.toEqual({ outcomes: [], sandboxes: 0 });
  await expect(sb.run({ code: '', entry: 'f(', inputs: ['1'], timeLimitMs: 1000 })).rejects.toThrow(TypeError);
  expect(new SandboxInfraError('x').name).toBe('SandboxInfraError');
});

describe('CPU-time limits with a wall backstop', () => {
  test('a CPU-bound input times out on CPU; sleeping code times out on the wall backstop', async () => {
    const code = 'import time\ndef f(k):\n    if k == 0:\n        while True: pass\n    if k == 1:\n        time.sleep(30)\n    return k';
    // The loop with the widest backstop (20 x 300 ms = 6 s of wall): it needs only a twentieth of
    // a core to use up its 300 ms of CPU first, so a busy machine cannot make the wall decide.
    const cpu = await sb.run({ code, entry: 'f', inputs: ['0', '2'], timeLimitMs: 300, wallFactor: 20 });
    expect(cpu.outcomes.map((o) => o.status)).toEqual(['timeout', 'ok']);
    expect(cpu.outcomes[0]?.cpuMs ?? 0).toBeGreaterThanOrEqual(250);
    // The sleep uses no CPU and hits the 3 x 300 ms backstop.
    const t0 = Date.now();
    const wall = await sb.run({ code, entry: 'f', inputs: ['1', '2'], timeLimitMs: 300, wallFactor: 3 });
    expect(wall.outcomes.map((o) => o.status)).toEqual(['timeout', 'ok']);
    expect(wall.outcomes[0]?.cpuMs ?? 0).toBeLessThan(100);
    expect(wall.outcomes[0]?.wallMs ?? 0).toBeGreaterThanOrEqual(850);
    expect(Date.now() - t0).toBeLessThan(10_000); // stopped by the backstop, not after the 30 s sleep
  });
});

describe('failFast', () => {
  test('stops at the first input that does not run cleanly, in the driver and after a sandbox death', async () => {
    const loop = 'def f(k):\n    if k == 1:\n        while True: pass\n    return k';
    const a = await sb.run({ code: loop, entry: 'f', inputs: ['0', '1', '1', '1', '1'], timeLimitMs: 300, failFast: true });
    // One time limit, not four: the other looping inputs never ran.
    expect(a.outcomes.map((o) => o.status)).toEqual(['ok', 'timeout', 'skipped', 'skipped', 'skipped']);
    expect(a.outcomes.slice(2).map((o) => o.wallMs)).toEqual([0, 0, 0]);
    const bomb = 'def f(k):\n    if k == 1:\n        x = []\n        while True: x.append(bytearray(10**7))\n    return k';
    const b = await sb.run({ code: bomb, entry: 'f', inputs: ['0', '1', '0'], timeLimitMs: 2000, wallFactor: 5, failFast: true });
    expect(b.outcomes.map((o) => o.status)).toEqual(['ok', 'memory_limit', 'skipped']);
    const c = await sb.run({ code: loop, entry: 'f', inputs: ['0', '2'], timeLimitMs: 300, failFast: true });
    expect(c.outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
  });
});
