/**
 * bench:sampling smoke test (slow tier): tiny numbers, so the benchmark keeps working. Judges only
 * what must hold whatever the figures: both legs graded the same problems, adaptive asked for no
 * more samples than fixed M, its samples were fixed's first ones (paired), and the last line's form.
 */
import path from 'node:path';
import { dropDatabase } from '../helpers/db';
import { onCleanup, runTracked } from '../helpers/tracked-processes';

test('bench:sampling with tiny numbers: paired legs, adaptive <= fixed samples, the last line', async () => {
  let pid = 0;
  onCleanup(
    'bench databases',
    async () => {
      if (pid) for (const leg of ['fixed', 'adaptive']) await dropDatabase(`cairn_bench_sampling_${leg}_${pid}`);
    },
    () => false,
  );
  const args = ['-r', 'tsx/cjs', 'scripts/bench/sampling-bench.ts', '--seeds', '4', '--turns', '1', '--attempts', '16'];
  const run = runTracked(process.execPath, args, { cwd: path.resolve(__dirname, '../..'), env: process.env });
  pid = run.child.pid ?? 0;
  const { code, out } = await run;
  if (code !== 0) console.log(out);
  expect(code).toBe(0);
  const leg = (name: string) => {
    const m = new RegExp(`\\n${name} +(\\d+) +(\\d+) +(\\d+) `).exec(out);
    return m ? { graded: Number(m[1]), samples: Number(m[3]) } : null;
  };
  const f = leg('fixed');
  const a = leg('adaptive');
  expect(f && a).toBeTruthy();
  expect(a?.graded).toBe(f?.graded);
  expect(f?.samples).toBe(16 * (f?.graded ?? 0));
  expect(a?.samples).toBeLessThanOrEqual(f?.samples ?? 0);
  const pairs = /adaptive's samples are fixed's first ones in (\d+)\/(\d+)/.exec(out);
  expect(pairs?.[1]).toBe(pairs?.[2]);
  expect(out.trim().split('\n').pop()).toMatch(/^adaptive\/fixed samples ratio [\d.]+, agreement [\d.]+$/);
}, 600_000);
