/**
 * Throughput of the grader on tiny passing tests, side by side in one run:
 *   (a) the same driver unsandboxed (plain /usr/bin/python3 -I -S driver, one process per attempt),
 *   (b) the sandbox (one sandbox per attempt; sequential and at `slots` concurrency),
 *   (c) one sandbox per input (strict mode).
 * Run: npx tsx activities/sandbox/bench.ts [attempts]
 */
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createSandbox } from './runner';
import { SYSTEM_PYTHON } from './seccomp';
import { prepareDriver } from './setup';
import type { RunRequest, Sandbox } from './types';

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
  msPerAttempt: number;
}

export interface BenchReport {
  inputsPerAttempt: number;
  attempts: number;
  concurrency: number;
  unsandboxedSequential: BenchFigure;
  unsandboxedConcurrent: BenchFigure;
  sandboxSequential: BenchFigure;
  sandboxConcurrent: BenchFigure;
  /** Strict mode, `concurrency` sandboxes at a time. */
  sandboxPerInput: BenchFigure;
  /** (b)/(a) tests per second, like for like. */
  ratioSequential: number;
  ratioConcurrent: number;
}

/** Measures (a), (b), (c) on `attempts` attempts of `inputsPerAttempt` tiny inputs and prints a table. */
export async function runBench(opts: { stateDir?: string; attempts?: number; inputsPerAttempt?: number; slots?: number; print?: boolean } = {}): Promise<BenchReport> {
  const attempts = opts.attempts ?? 60;
  const n = opts.inputsPerAttempt ?? 20;
  const slots = opts.slots ?? 2;
  const stateDir = opts.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-sbx-bench-'));
  fs.chmodSync(stateDir, 0o755);
  const inputs = Array.from({ length: n }, (_, i) => `[${i}, 3, 5, 7, 11], ${i + 11}`);
  const req: RunRequest = { code: CODE, entry: 'f', inputs, timeLimitMs: 1000 };
  const sb = await createSandbox({ stateDir, slots });
  try {
    const driver = await prepareDriver(stateDir);
    const jobDir = fs.mkdtempSync(path.join(stateDir, 'bench-job-'));
    fs.writeFileSync(path.join(jobDir, 'solution.py'), CODE);
    fs.writeFileSync(path.join(jobDir, 'job.json'), JSON.stringify({ entry: 'f', inputs, limits: inputs.map(() => 1000), loadMs: 1000 }));
    // warm-up of every path (page cache, pyc, cgroup code paths)
    await unsandboxed(driver, jobDir, n);
    await checkedRun(sb, req);

    const aSeq = await measure(attempts, n, 1, () => unsandboxed(driver, jobDir, n));
    const aPar = await measure(attempts, n, slots, () => unsandboxed(driver, jobDir, n));
    const bSeq = await measure(attempts, n, 1, () => checkedRun(sb, req));
    const bPar = await measure(attempts, n, slots, () => checkedRun(sb, req));
    const single = inputs.map((inp) => ({ ...req, inputs: [inp] }));
    const cAttempts = Math.max(2, Math.round(attempts / 6));
    // strict mode: each input in its own sandbox, `slots` at a time
    const c = await measure(cAttempts, n, 1, () => Promise.all(single.map((r) => checkedRun(sb, r))).then(() => undefined));
    fs.rmSync(jobDir, { recursive: true, force: true });
    const report: BenchReport = {
      inputsPerAttempt: n,
      attempts,
      concurrency: slots,
      unsandboxedSequential: aSeq,
      unsandboxedConcurrent: aPar,
      sandboxSequential: bSeq,
      sandboxConcurrent: bPar,
      sandboxPerInput: c,
      ratioSequential: bSeq.testsPerSec / aSeq.testsPerSec,
      ratioConcurrent: bPar.testsPerSec / aPar.testsPerSec,
    };
    if (opts.print !== false) printReport(report);
    return report;
  } finally {
    await sb.close();
    if (!opts.stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

async function measure(attempts: number, n: number, concurrency: number, one: () => Promise<void>): Promise<BenchFigure> {
  let left = attempts;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) await one();
  }));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  // msPerAttempt: latency of one attempt as its caller sees it
  return { testsPerSec: (attempts * n) / (ms / 1000), msPerAttempt: (ms / attempts) * concurrency };
}

async function checkedRun(sb: Sandbox, req: RunRequest): Promise<void> {
  const r = await sb.run(req);
  const bad = r.outcomes.find((o) => o.status !== 'ok');
  if (bad) throw new Error(`bench run failed: ${JSON.stringify(bad)}`);
}

/** The driver as a plain process (as root: its kill(-1) sweep is guarded off outside bwrap). */
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

function printReport(r: BenchReport): void {
  const row = (name: string, f: BenchFigure): string => `${name.padEnd(38)} ${f.testsPerSec.toFixed(0).padStart(7)} tests/s  ${f.msPerAttempt.toFixed(1).padStart(7)} ms/attempt`;
  console.log(`grader throughput, ${r.attempts} attempts x ${r.inputsPerAttempt} tiny inputs, ${os.cpus().length} cores`);
  const k = r.concurrency;
  console.log(row('(a) driver unsandboxed, sequential', r.unsandboxedSequential));
  console.log(row(`(a) driver unsandboxed, concurrency ${k}`, r.unsandboxedConcurrent));
  console.log(row('(b) sandbox per attempt, sequential', r.sandboxSequential));
  console.log(row(`(b) sandbox per attempt, concurrency ${k}`, r.sandboxConcurrent));
  console.log(row(`(c) sandbox per input, concurrency ${k}`, r.sandboxPerInput));
  console.log(`ratio b/a: sequential ${r.ratioSequential.toFixed(2)}, concurrency ${k} ${r.ratioConcurrent.toFixed(2)}`);
}

if (require.main === module) {
  runBench({ attempts: Number(process.argv[2] ?? 60) }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
