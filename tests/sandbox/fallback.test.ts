/** cgroups: 'off' (hosts without usable cgroups): rlimits and the pid namespace still contain the bad cases. */
import fs from 'fs';
import { expectClean, makeSandbox, statuses, timed } from './sandbox-helpers';
import type { TestSandbox } from './sandbox-helpers';

let sb: TestSandbox;
let stateDir: string;
const logs: string[] = [];

beforeAll(async () => {
  ({ sb, stateDir } = await makeSandbox(3, { cgroups: 'off', log: (m) => logs.push(m) }));
});
afterAll(async () => {
  await sb?.close();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});
afterEach(() => expectClean(sb, stateDir));

test('mode none is reported with a warning', () => {
  expect(sb.info.cgroupMode).toBe('none');
  expect(sb.info.warnings.join(' ')).toMatch(/cgroups disabled/);
  expect(logs.join(' ')).toMatch(/warning/);
});

test('fork bomb and setsid daemons are contained by RLIMIT_NPROC and the sweep', async () => {
  const code = `
import os, time
def f(kind):
    if kind == 'daemon':
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                while True: time.sleep(0.05)
            os._exit(0)
        return 'spawned'
    while True:
        try:
            os.fork()
        except OSError:
            pass
`;
  const { r, ms } = await timed(sb, code, ["'daemon'", "'bomb'"]);
  expect(statuses(r)).toEqual(['ok', 'timeout']);
  // Idle about 1.3 s (the 1 s limit, then the sweep); 3 s was exceeded at a load average of 16.
  expect(ms).toBeLessThan(6000);
});

test('memory bomb -> memory_limit via RLIMIT_AS (MemoryError)', async () => {
  // Faulting in 1 GiB takes about 1 s of kernel time (CPU time, which the limit counts), hence
  // 4 s. The wall backstop must not decide this verdict: with CPU hogs beside the suite that 1 s
  // of CPU took over 4 s of wall, and wallFactor 1 turned it into a timeout. Production grading
  // runs with a backstop of 3 x the limit (CAIRN_SANDBOX_WALL_FACTOR); here 5 x.
  const code = 'def f():\n    a = []\n    while True: a.append(bytearray(10 ** 7))';
  const { r } = await timed(sb, code, [''], { timeLimitMs: 4000, wallFactor: 5 });
  expect(statuses(r)).toEqual(['memory_limit']);
  expect(r.outcomes[0]?.error).toBe('MemoryError');
});
