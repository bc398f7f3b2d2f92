/**
 * Where the time of one sandboxed attempt goes: each step of the launch chain timed alone, as
 * wall ms per run (sequential, so on an idle core it is also about the CPU each step costs).
 * Printed by `npm run bench:grader`; usable alone: tsx scripts/bench/grader-breakdown.ts [runs]
 */
import { spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { sandboxArgv } from '../../activities/sandbox';
import { JobCgroups } from '../../activities/sandbox/cgroups';
import type { CgroupLayout } from '../../activities/sandbox/cgroups';
import { SYSTEM_PYTHON } from '../../activities/sandbox/seccomp';

export interface BreakdownRow {
  step: string;
  ms: number;
}

function run(cmd: string, args: string[], extra: { fd9?: string; env?: Record<string, string> } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = extra.fd9 ? fs.openSync(extra.fd9, 'r') : undefined;
    const stdio = ['ignore', 'ignore', 'pipe', ...(fd !== undefined ? [...Array<'ignore'>(6).fill('ignore'), fd] : [])];
    const child = spawn(cmd, args, { stdio: stdio as ['ignore', 'ignore', 'pipe'], env: extra.env ?? { PATH: '/usr/bin:/bin' } });
    if (fd !== undefined) fs.closeSync(fd);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err.slice(0, 300)}`))));
  });
}

async function time(runs: number, fn: () => Promise<void>): Promise<number> {
  await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6 / runs;
}

/** Times each step; `uid` is a slot uid in root mode, null in user mode. */
export async function measureBreakdown(o: {
  runs: number;
  seccompPath: string;
  driverPath: string;
  jobDir: string;
  uid: number | null;
  layout: CgroupLayout;
}): Promise<BreakdownRow[]> {
  const spec = { uid: o.uid, seccompPath: o.seccompPath, jobDir: o.jobDir, driverPath: o.driverPath, procsFiles: [], cpuSeconds: 10 };
  const full = sandboxArgv({ ...spec, args: ['/sandbox/job', '0'] });
  const py = full.indexOf(SYSTEM_PYTHON);
  const chainTo = (end: string[]): string[] => [...full.slice(0, py), ...end];
  const rows: BreakdownRow[] = [];
  const add = async (step: string, fn: () => Promise<void>) => rows.push({ step, ms: await time(o.runs, fn) });
  await add('node spawn of /bin/true', () => run('/bin/true', []));
  await add('python3 -I -S -c pass (interpreter start)', () => run(SYSTEM_PYTHON, ['-I', '-S', '-c', 'pass']));
  await add('python3 -I -S -c "import ast" (driver imports)', () =>
    run(SYSTEM_PYTHON, ['-I', '-S', '-c', 'import ast, _signal, resource']),
  );
  await add('unsandboxed driver, 20 inputs', () => run(SYSTEM_PYTHON, ['-I', '-S', o.driverPath, o.jobDir, '0']));
  await add('sh shim + prlimit (+ setpriv) + /bin/true', () => {
    const a = full.slice(0, full.indexOf('/usr/bin/bwrap'));
    return run('/bin/sh', [...a, '/bin/true'], { env: { CGS: '', PATH: '/usr/bin:/bin' } });
  });
  await add('... + bwrap namespaces/mounts/seccomp + /bin/true', () =>
    run('/bin/sh', chainTo(['/bin/true']), { fd9: o.seccompPath, env: { CGS: '', PATH: '/usr/bin:/bin' } }),
  );
  await add('... + python3 -c pass', () =>
    run('/bin/sh', chainTo([SYSTEM_PYTHON, '-I', '-S', '-c', 'pass']), { fd9: o.seccompPath, env: { CGS: '', PATH: '/usr/bin:/bin' } }),
  );
  await add('full chain + driver, 20 inputs', () => run('/bin/sh', full, { fd9: o.seccompPath, env: { CGS: '', PATH: '/usr/bin:/bin' } }));
  if (o.layout.mode !== 'none') {
    await add('cgroups: create + stats + destroy', async () => {
      const cg = JobCgroups.create(o.layout, 256 << 20, 32);
      cg.stats();
      await cg.destroy();
    });
  }
  await add('job dir: mkdir + 2 files + rm', async () => {
    const d = fs.mkdtempSync(path.join(path.dirname(o.jobDir), 'bd-'));
    fs.writeFileSync(path.join(d, 'solution.py'), 'x');
    fs.writeFileSync(path.join(d, 'job.json'), 'x');
    await fs.promises.rm(d, { recursive: true, force: true });
  });
  return rows;
}

export function printBreakdown(rows: BreakdownRow[]): void {
  console.log('where the time of one attempt goes (each step alone, sequential, wall ms per run):');
  for (const r of rows) console.log(`  ${r.step.padEnd(52)} ${r.ms.toFixed(2).padStart(7)} ms`);
}
