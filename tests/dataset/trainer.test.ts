/**
 * Trainer formats without a database: flags, the deterministic split, the pass-rate interval and
 * histogram, and cairn_reward.py being generated from the sources Cairn grades with (the end-to-end
 * test in tests/e2e/trainer-export.test.ts grades a real batch with it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { exportOptions } from '../../scripts/cli/export';
import { passRateHistogram } from '../../scripts/dataset/card';
import { REWARD_SOURCES, rewardFileText } from '../../scripts/dataset/reward-file';
import { splitOf, wilson } from '../../scripts/dataset/trainer';

const flags = { batch: ['b'], out: 'out/dir', min: 0.01, max: 0.97, seed: '0' };

test('trainer flags: a directory, a split fraction in [0, 1), apps only for verl', () => {
  expect(exportOptions({ ...flags, format: 'verl', testFraction: 0.1, groundTruth: 'apps' })).toMatchObject({
    format: 'verl',
    testFraction: 0.1,
    groundTruth: 'apps',
  });
  expect(exportOptions({ ...flags, format: 'trl' })).toMatchObject({ format: 'trl' });
  expect(() => exportOptions({ ...flags, format: 'verl', out: 'x.parquet' })).toThrow(/writes a directory/);
  expect(() => exportOptions({ ...flags, format: 'verl', testFraction: 1 })).toThrow(/--test-fraction 1/);
  expect(() => exportOptions({ ...flags, format: 'trl', groundTruth: 'apps' })).toThrow(/for --format verl/);
  expect(() => exportOptions({ ...flags, format: 'verl', groundTruth: 'x' })).toThrow(/choose cairn or apps/);
  expect(() => exportOptions({ ...flags, out: 'x.jsonl', testFraction: 0.1 })).toThrow(/go with --format verl/);
  expect(() => exportOptions({ ...flags, out: 'x.jsonl', format: 'csv' })).toThrow(/--format csv/);
});

test('the split is a function of the id and the fraction', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => i + 1);
  const test1 = ids.filter((id) => splitOf(id, 0.1) === 'test');
  expect(test1.length).toBeGreaterThan(900);
  expect(test1.length).toBeLessThan(1100);
  expect(ids.filter((id) => splitOf(id, 0.1) === 'test')).toEqual(test1);
  // A larger fraction only moves records from train to test.
  const test2 = new Set(ids.filter((id) => splitOf(id, 0.2) === 'test'));
  expect(test1.every((id) => test2.has(id))).toBe(true);
  expect(ids.every((id) => splitOf(id, 0) === 'train')).toBe(true);
});

test('pass-rate interval and histogram', () => {
  const [lo, hi] = wilson(16, 32);
  expect(lo).toBeCloseTo(0.336, 2);
  expect(hi).toBeCloseTo(0.664, 2);
  expect(wilson(0, 8)[0]).toBe(0);
  expect(wilson(8, 8)[1]).toBe(1);
  const h = passRateHistogram([0, 0.05, 0.5, 1, 1]).split('\n');
  expect(h).toHaveLength(10);
  expect(h[0]).toMatch(/^0\.0-0\.1 #+ +2$/);
  expect(h[9]).toMatch(/^0\.9-1\.0 #+ +2$/);
});

test('cairn_reward.py is generated from the driver and the parser, verbatim, and is valid Python', () => {
  const text = rewardFileText();
  expect(text).toContain(fs.readFileSync(REWARD_SOURCES.answers, 'utf8'));
  expect(text).toContain(fs.readFileSync(REWARD_SOURCES.runtime, 'utf8'));
  expect(text).toContain(`_DRIVER_SOURCE = ${JSON.stringify(fs.readFileSync(REWARD_SOURCES.driver, 'utf8'))}`);
  const r = spawnSync(
    'python3',
    [
      '-c',
      `
import sys
ns = {"__name__": "cairn_reward"}
exec(compile(sys.stdin.read(), "cairn_reward.py", "exec"), ns)
assert ns["_DRIVER_SOURCE"] == open(sys.argv[1], encoding="utf-8").read()
print(sorted(k for k in ("compute_score", "cairn_reward", "reward_func") if callable(ns.get(k))))
`,
      REWARD_SOURCES.driver,
    ],
    { input: text, encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.stdout.trim()).toBe("['cairn_reward', 'compute_score', 'reward_func']");
});
