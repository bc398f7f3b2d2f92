/**
 * `npm run bench:grader`: throughput of the grader on tiny passing tests, side by side in one run.
 *   (a) the same driver unsandboxed (plain /usr/bin/python3 -I -S driver, one process per attempt),
 *   (b) Cairn's sandbox with the warm pool (one pre-started sandbox per slot, each used once),
 *   (b0) the old path: the same sandbox spawned on demand per attempt (SandboxOptions.warm false),
 *   (c) one sandbox per input (strict mode),
 * preceded by a breakdown of where the time of one attempt goes (grader-breakdown.ts).
 * each at concurrency 1 and 2, the ratio b/a, and `cairn grade` end to end on a JSONL file.
 * Usage: tsx scripts/bench/grader.ts [attempts=60] [inputsPerAttempt=20]
 */
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createSandbox } from '../../activities/sandbox';
import type { RunRequest, Sandbox } from '../../activities/sandbox';
import { SYSTEM_PYTHON } from '../../activities/sandbox/seccomp';
import { prepareDriver } from '../../activities/sandbox/host-checks';
import { detectCgroups } from '../../activities/sandbox/cgroups';
import { measureBreakdown, printBreakdown } from './grader-breakdown';
import type { BreakdownRow } from './grader-breakdown';

const ROOT = path.resolve(__dirname, '../..');
const CODE = `
def f(nums, target):
    seen = {}
    for i, x in enumerate(nums):
        if target - x in seen:
            return [seen[target - x], i]
        seen[x] = i
    return []
`;

export interface BenchFigure {
  testsPerSec: number;
  /** Latency of one attempt as its caller sees it. */
  msPerAttempt: number;
  /**
   * CPU ms per attempt over the whole machine (/proc/stat, less the background rate measured over one
   * idle second just before), and the part of it spent in this process (Node: pool, cgroups, pipes).
   * The whole machine, not the children's rusage: kernel work (namespace teardown, cgroups) is
   * in no process's rusage, and before `--as-pid-1` bwrap never reaped its reaper, so the sandboxed
   * python's CPU was in nobody's. Only meaningful on an otherwise quiet machine.
   */
  cpu: { machine: number; node: number };
}

export interface BenchReport {
  attempts: number;
  inputsPerAttempt: number;
  mode: string;
  /** [concurrency 1, concurrency 2] */
  unsandboxed: [BenchFigure, BenchFigure];
  sandbox: [BenchFigure, BenchFigure];
  /** The old path: a sandbox spawned per attempt. */
  sandboxCold: [BenchFigure, BenchFigure];
  perInput: [BenchFigure, BenchFigure];
  ratio: [number, number];
  ratioCold: [number, number];
  breakdown: BreakdownRow[];
  /** `cairn grade`: grading phase as it reports it, and the whole command (node start, probe) by wall clock. */
  cli: { jobs: number; tests: number; reportedTestsPerSec: number; wallMs: number; wallTestsPerSec: number };
}

/** CODE's answer, computed on the host for the expected values. */
function twoSum(nums: number[], target: number): number[] {
  const seen = new Map<number, number>();
  for (const [i, x] of nums.entries()) {
    const j = seen.get(target - x);
    if (j !== undefined) return [j, i];
    seen.set(x, i);
  }
  return [];
}

export async function runBench(opts: { attempts?: number; inputsPerAttempt?: number; print?: boolean } = {}): Promise<BenchReport> {
  const attempts = opts.attempts ?? 60;
  const n = opts.inputsPerAttempt ?? 20;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'));
  fs.chmodSync(stateDir, 0o755);
  const inputs = Array.from({ length: n }, (_, i) => `[${i}, 3, 5, 7, 11], ${i + 11}`);
  const expected = Array.from({ length: n }, (_, i) => JSON.stringify(twoSum([i, 3, 5, 7, 11], i + 11)).replace(/,/g, ', '));
  const req: RunRequest = { code: CODE, entry: 'f', inputs, timeLimitMs: 1000 };
  const sb = await createSandbox({ stateDir, slots: 2 });
  const cold = await createSandbox({ stateDir, slots: 2, warm: false });
  try {
    const driver = await prepareDriver(stateDir);
    const jobDir = fs.mkdtempSync(path.join(stateDir, 'bench-job-'));
    fs.chmodSync(jobDir, 0o755); // the breakdown runs the driver in a sandbox as a slot uid
    fs.writeFileSync(path.join(jobDir, 'solution.py'), CODE);
    fs.writeFileSync(path.join(jobDir, 'job.json'), JSON.stringify({ entry: 'f', inputs, limits: inputs.map(() => 1000), loadMs: 1000 }));
    // warm-up of every path (page cache, pyc, cgroup code paths)
    await unsandboxed(driver, jobDir, n);
    await checkedRun(sb, req);
    await checkedRun(cold, req);
    const breakdown = await measureBreakdown({
      runs: 10,
      seccompPath: sb.info.seccompPath,
      driverPath: driver,
      jobDir,
      uid: sb.info.privilege === 'root' ? (cold.info.slotUids[0] ?? null) : null,
      layout: sb.info.cgroupMode === 'none' ? { mode: 'none' } : detectCgroups({ privilege: sb.info.privilege }).layout,
    });
    const single = inputs.map((inp) => ({ ...req, inputs: [inp] }));
    const cAttempts = Math.max(2, Math.round(attempts / 6));
    const at = async (k: 1 | 2): Promise<[BenchFigure, BenchFigure, BenchFigure, BenchFigure]> => [
      await measure(attempts, n, k, () => unsandboxed(driver, jobDir, n)),
      await measure(attempts, n, k, () => checkedRun(sb, req)),
      await measure(attempts, n, k, () => checkedRun(cold, req)),
      // strict mode: one attempt = n sandboxes, k at a time
      await measure(cAttempts, n, 1, () => pool(single, k, (r) => checkedRun(sb, r))),
    ];
    const [a1, b1, o1, c1] = await at(1);
    const [a2, b2, o2, c2] = await at(2);
    fs.rmSync(jobDir, { recursive: true, force: true });
    const cli = await benchCli(stateDir, attempts, inputs, expected);
    const report: BenchReport = {
      attempts,
      inputsPerAttempt: n,
      mode: `${sb.info.privilege} mode, cgroups ${sb.info.cgroupMode}`,
      unsandboxed: [a1, a2],
      sandbox: [b1, b2],
      sandboxCold: [o1, o2],
      perInput: [c1, c2],
      ratio: [b1.testsPerSec / a1.testsPerSec, b2.testsPerSec / a2.testsPerSec],
      ratioCold: [o1.testsPerSec / a1.testsPerSec, o2.testsPerSec / a2.testsPerSec],
      breakdown,
      cli,
    };
    if (opts.print !== false) printReport(report);
    return report;
  } finally {
    await cold.close();
    await sb.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

async function measure(attempts: number, n: number, concurrency: number, one: () => Promise<void>): Promise<BenchFigure> {
  let left = attempts;
  // What the rest of the machine burns with nothing of ours running, subtracted from "other".
  const i0 = cpuNow();
  const q0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, 1000));
  const i1 = cpuNow();
  const background = (i1.machine - i0.machine - (i1.node - i0.node)) / (Number(process.hrtime.bigint() - q0) / 1e6);
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await one();
    }),
  );
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  // Namespace teardown runs after the last exit: give it a moment.
  await new Promise((r) => setTimeout(r, 50));
  const c1 = cpuNow();
  const per = (x: number): number => x / attempts;
  const node = c1.node - c0.node;
  return {
    testsPerSec: (attempts * n) / (ms / 1000),
    msPerAttempt: (ms / attempts) * concurrency,
    cpu: { machine: per(c1.machine - c0.machine - Math.max(0, background) * (ms + 50)), node: per(node) },
  };
}

/** CPU ms so far: this process, and the whole machine (/proc/stat, all but idle and iowait). */
function cpuNow(): { node: number; machine: number } {
  const u = process.cpuUsage();
  const tick = 10; // ms per clock tick (USER_HZ 100 on Linux)
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const busy = cpu.reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0);
  return { node: (u.user + u.system) / 1000, machine: busy * tick };
}

async function pool<T>(items: T[], k: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: k }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function checkedRun(sb: Sandbox, req: RunRequest): Promise<void> {
  const r = await sb.run(req);
  const bad = r.outcomes.find((o) => o.status !== 'ok');
  if (bad) throw new Error(`bench run failed: ${JSON.stringify(bad)}`);
}

/** The driver as a plain process (its kill(-1) sweep is guarded off outside bwrap). */
function unsandboxed(driver: string, jobDir: string, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, ['-I', '-S', driver, jobDir, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const ok = out.split('\n').filter((l) => l.includes('"t":"res"') && l.includes('"status":"ok"')).length;
      if (ok === n) resolve();
      else reject(new Error(`unsandboxed driver reported ${ok}/${n} ok: ${out.slice(0, 300)}`));
    });
  });
}

/** `node scripts/cairn.js grade` on `attempts` jobs, concurrency 2. */
async function benchCli(dir: string, attempts: number, inputs: string[], expected: string[]): Promise<BenchReport['cli']> {
  const inFile = path.join(dir, 'bench-jobs.jsonl');
  const outFile = path.join(dir, 'bench-results.jsonl');
  fs.writeFileSync(
    inFile,
    Array.from({ length: attempts }, (_, i) => JSON.stringify({ id: i, code: CODE, inputs, expected, time_limit_ms: 1000 })).join('\n') +
      '\n',
  );
  const t0 = Date.now();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'scripts/cairn.js'), 'grade', '--in', inFile, '--out', outFile, '--concurrency', '2', '--quiet'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`cairn grade exited ${code}: ${out}`))));
  });
  const wallMs = Date.now() - t0;
  const m = /graded (\d+) jobs: (\d+) pass.*; (\d+) tests in [\d.]+ s = (\d+) tests\/s/.exec(stdout);
  if (!m || Number(m[2]) !== attempts) throw new Error(`unexpected cairn grade output: ${stdout}`);
  const tests = Number(m[3]);
  return { jobs: Number(m[1]), tests, reportedTestsPerSec: Number(m[4]), wallMs, wallTestsPerSec: (tests * 1000) / wallMs };
}

function printReport(r: BenchReport): void {
  const cell = (f: BenchFigure): string =>
    `${f.testsPerSec.toFixed(0).padStart(5)} tests/s ${f.msPerAttempt.toFixed(1).padStart(6)} ms/attempt`;
  const row = (name: string, f: [BenchFigure, BenchFigure]): string => `${name.padEnd(40)} ${cell(f[0])}   ${cell(f[1])}`;
  printBreakdown(r.breakdown);
  console.log(`grader throughput: ${r.attempts} attempts x ${r.inputsPerAttempt} tiny inputs, ${os.cpus().length} cores, ${r.mode}`);
  console.log(`${''.padEnd(40)} ${'concurrency 1'.padEnd(33)}   concurrency 2`);
  console.log(row('(a) same driver, unsandboxed', r.unsandboxed));
  console.log(row('(b) sandbox, warm pool (new path)', r.sandbox));
  console.log(row('(b0) sandbox spawned per attempt (old)', r.sandboxCold));
  console.log(row('(c) one sandbox per input', r.perInput));
  const over = (b: BenchFigure, a: BenchFigure): string => `${(b.msPerAttempt - a.msPerAttempt).toFixed(1)} ms`;
  console.log(`ratio b/a (new): ${r.ratio[0].toFixed(2)} (concurrency 1), ${r.ratio[1].toFixed(2)} (concurrency 2)`);
  console.log(`ratio b0/a (old): ${r.ratioCold[0].toFixed(2)} (concurrency 1), ${r.ratioCold[1].toFixed(2)} (concurrency 2)`);
  console.log(
    `overhead per attempt vs unsandboxed: new ${over(r.sandbox[0], r.unsandboxed[0])} / ${over(r.sandbox[1], r.unsandboxed[1])}, ` +
      `old ${over(r.sandboxCold[0], r.unsandboxed[0])} / ${over(r.sandboxCold[1], r.unsandboxed[1])} (concurrency 1 / 2)`,
  );
  const cpu = (name: string, f: [BenchFigure, BenchFigure]): string =>
    `${name.padEnd(40)} ` +
    f.map((x) => `${x.cpu.machine.toFixed(1).padStart(6)} ms (node ${x.cpu.node.toFixed(1)} ms)`.padEnd(33)).join('   ');
  console.log('CPU per attempt, whole machine less its background rate (of which this node process)');
  console.log(cpu('(a) same driver, unsandboxed', r.unsandboxed));
  console.log(cpu('(b) sandbox, warm pool (new path)', r.sandbox));
  console.log(cpu('(b0) sandbox spawned per attempt (old)', r.sandboxCold));
  console.log(
    `cairn grade end to end (concurrency 2): ${r.cli.jobs} jobs, ${r.cli.tests} tests; ${r.cli.reportedTestsPerSec} tests/s while grading, ` +
      `${r.cli.wallTestsPerSec.toFixed(0)} tests/s over the whole command (${(r.cli.wallMs / 1000).toFixed(2)} s incl. node start and probe)`,
  );
}

if (require.main === module) {
  runBench({ attempts: Number(process.argv[2] ?? 60), inputsPerAttempt: Number(process.argv[3] ?? 20) }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
