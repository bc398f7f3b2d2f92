/**
 * Scale smoke test (slow tier): `npm run bench:scale` with tiny numbers, so the benchmark itself
 * keeps working (both legs: the seed load in a child process, and a batch over the real stack with
 * one worker process per queue). The figures it prints are not judged here, only that it ran.
 */
import path from 'node:path';
import { dropDatabase } from '../helpers/db';
import { onCleanup, runTracked } from '../helpers/tracked-processes';

const LOAD_SEEDS = 2000;
const BATCH_SEEDS = 12;

test('bench:scale with tiny numbers loads every seed and finishes every seed of its batch', async () => {
  let pid = 0;
  // On a timeout the cleanup stops the bench's process group (workers, loader, dev server), then
  // drops the databases it would have dropped (named after its pid). Registered first: runs last.
  onCleanup(
    'bench databases',
    async () => {
      if (pid) for (const leg of ['load', 'batch', 'cancel', 'paused']) await dropDatabase(`cairn_bench_${leg}_${pid}`);
    },
    () => false,
  );
  const args = [
    '-r',
    'tsx/cjs',
    'scripts/bench/scale-bench.ts',
    '--load-seeds',
    String(LOAD_SEEDS),
    '--batch-seeds',
    String(BATCH_SEEDS),
    '--window',
    '4',
    '--cancel-open',
    '20',
    '--reconciles',
    '100',
  ];
  const run = runTracked(process.execPath, args, { cwd: path.resolve(__dirname, '../..'), env: process.env });
  pid = run.child.pid ?? 0;
  const { code, out } = await run;
  if (code !== 0) console.log(out);
  expect(out).toMatch(new RegExp(`1\\. load ${LOAD_SEEDS} seeds`));
  expect(out).toMatch(new RegExp(`\\n {3}${LOAD_SEEDS} seeds in [\\d.]+ s: \\d+ seeds/s; loader peak RSS \\d+ MB`));
  expect(out).toMatch(new RegExp(`\\n {3}${BATCH_SEEDS} done, 0 failed in \\d+ s`));
  for (const q of ['orchestration', 'teacher', 'student', 'grader'])
    expect(out).toMatch(new RegExp(`worker ${q} +RSS \\d+ MB at start, \\d+ MB at end`));
  expect(out).toMatch(/Temporal history: \d+ events per seed workflow/);
  expect(out).toMatch(/Temporal actions per seed-turn \(1 turn\): [\d.]+ \(seed workflow [\d.]+, batch workflow [\d.]+ per seed/);
  expect(out).toMatch(new RegExp(`seeds +${BATCH_SEEDS} rows`));
  expect(out).toMatch(/Postgres: [\d.]+ rows and [\d.]+ KiB per seed/);
  expect(out).toMatch(/batch workflow: \d+ runs, \d+ events, \d+ actions; largest run \d+ events/);
  expect(out).toMatch(/per seed: [\d.]+ history events, [\d.]+ Temporal actions/);
  expect(out).toMatch(/all 20 seeds recorded 'cancelled' after [\d.]+ s; every workflow closed after [\d.]+ s; 0 workflows still running/);
  expect(out).toMatch(/\n {3}\d+ reconciles in \d+ s, still paused: true, started 0/);
  expect(code).toBe(0);
}, 600_000);
