import { samplingRounds, settles, stopSampling, wilson, zFor } from '../../workflows/method/sampling';
import { batchSettingsFrom, parseBatchSettings } from '../../workflows/contracts';

test('rounds double from 4 and end at M', () => {
  expect(samplingRounds(32)).toEqual([4, 8, 16, 32]);
  expect(samplingRounds(8)).toEqual([4, 8]);
  expect(samplingRounds(20)).toEqual([4, 8, 16, 20]);
  expect(samplingRounds(3)).toEqual([3]);
});

test('the Wilson interval matches known values', () => {
  expect(zFor(0.95)).toBeCloseTo(1.959964, 5);
  expect(zFor(0.99)).toBeCloseTo(2.575829, 5);
  const [lo, hi] = wilson(8, 8, 0.95);
  expect(lo).toBeCloseTo(8 / (8 + 1.959964 ** 2), 5);
  expect(hi).toBe(1);
  const [l2, h2] = wilson(16, 32, 0.95);
  expect(l2).toBeCloseTo(0.3363, 3);
  expect(h2).toBeCloseTo(0.6637, 3);
  expect(wilson(0, 0, 0.95)).toEqual([0, 1]);
});

test('a round stops only when the interval settles the decision', () => {
  // 4/4 at 95%: [0.51, 1] straddles HARDER_ABOVE (0.65): sample on; 8/8: [0.68, 1]: too easy.
  expect(settles(4, 4, 0.95)).toBeNull();
  expect(settles(8, 8, 0.95)).toBe('too_easy');
  expect(settles(0, 8, 0.95)).toBe('too_hard');
  expect(settles(0, 8, 0.99)).toBeNull();
  // Mixed results settle only when the interval lies inside one bin; 8/16 does not.
  expect(settles(8, 16, 0.95)).toBeNull();
  expect(stopSampling(8, 16, 32, 0.95)).toBe(false);
  expect(stopSampling(8, 32, 32, 0.95)).toBe(true);
});

test('sampling settings: fixed by default, adaptive and the level validated, old records read as fixed', () => {
  const s = batchSettingsFrom({ seedFile: '/x.jsonl' });
  expect([s.sampling, s.confidence]).toEqual(['fixed', 0.95]);
  expect(batchSettingsFrom({ seedFile: '/x.jsonl', sampling: 'adaptive', confidence: 0.9 })).toMatchObject({
    sampling: 'adaptive',
    confidence: 0.9,
  });
  expect(() => batchSettingsFrom({ seedFile: '/x.jsonl', sampling: 'sometimes' })).toThrow(
    /--sampling sometimes: choose fixed or adaptive/,
  );
  expect(() => batchSettingsFrom({ seedFile: '/x.jsonl', confidence: 1 })).toThrow(/--confidence 1/);
  expect(parseBatchSettings({ seedFile: '/x.jsonl', turns: 2, attempts: 8 }, 'old')).toMatchObject({ sampling: 'fixed', confidence: 0.95 });
});
