/** Bins, flattening and the curriculum tables: pure functions, checked against method.md. */
import { BIN_SETS, binHistogram, binOf, inBand, DEFAULT_BAND } from '../../scripts/dataset/bins';
import {
  apportion,
  buildCurriculumPlan,
  CURRICULUM_NAMES,
  parseCurriculum,
  scaleStep,
  type CurriculumName,
} from '../../scripts/dataset/curriculum';
import { flattenByBins, parseFlattenTarget } from '../../scripts/dataset/flatten';
import { difficultyBin } from '../../scripts/dataset/exporter';

describe('bins', () => {
  test('broad bins: edges belong to the bin above; 0.97 is still easy', () => {
    const cases: [number, string | null][] = [
      [0.05, null],
      [0.0999, null],
      [0.1, 'hard'],
      [0.2599, 'hard'],
      [0.26, 'medium'],
      [0.6099, 'medium'],
      [0.61, 'easy-medium'],
      [0.8499, 'easy-medium'],
      [0.85, 'easy'],
      [0.97, 'easy'],
      [0.9701, null],
      [1, null],
    ];
    for (const [p, bin] of cases) expect([p, binOf(p, 'broad')]).toEqual([p, bin]);
  });

  test('chain bins with M = 32: hard 2-5, medium 14-18, easy 26-29 solved; the gaps are in no bin', () => {
    const byK = (name: string | null) => Array.from({ length: 33 }, (_, k) => k).filter((k) => binOf(k / 32, 'chain') === name);
    expect(byK('hard')).toEqual([2, 3, 4, 5]);
    expect(byK('medium')).toEqual([14, 15, 16, 17, 18]);
    expect(byK('easy')).toEqual([26, 27, 28, 29]);
    expect(binOf(0.05, 'chain')).toBe('hard');
    expect(binOf(0.16, 'chain')).toBe('hard');
    expect(binOf(0.41, 'chain')).toBe('medium');
    expect(binOf(0.59, 'chain')).toBe('medium');
    expect(binOf(0.81, 'chain')).toBe('easy');
    expect(binOf(0.91, 'chain')).toBe('easy');
    expect(binOf(0.3, 'chain')).toBeNull();
  });

  test("the ranges are the paper's", () => {
    expect(BIN_SETS.broad.map((b) => [b.name, b.min, b.max])).toEqual([
      ['hard', 0.1, 0.26],
      ['medium', 0.26, 0.61],
      ['easy-medium', 0.61, 0.85],
      ['easy', 0.85, 0.97],
    ]);
    expect(BIN_SETS.chain.map((b) => [b.name, b.min, b.max])).toEqual([
      ['hard', 0.05, 0.16],
      ['medium', 0.41, 0.59],
      ['easy', 0.81, 0.91],
    ]);
  });

  test('band 0.01-0.97 keeps 1 to 31 of 32 solved', () => {
    expect(Array.from({ length: 33 }, (_, k) => k).filter((k) => inBand(k / 32, DEFAULT_BAND))).toEqual(
      Array.from({ length: 31 }, (_, i) => i + 1),
    );
  });

  test('the old labeler keeps its names for the ends', () => {
    expect([0.05, 0.1, 0.3, 0.7, 0.9, 0.99].map(difficultyBin)).toEqual(['very-hard', 'hard', 'medium', 'easy-medium', 'easy', 'trivial']);
  });
});

describe('flatten', () => {
  // Skewed like a plain filter leaves it: many easy, few hard.
  const items = [
    ...Array.from({ length: 40 }, (_, i) => ({ id: 1000 + i, bin: 'easy' })),
    ...Array.from({ length: 20 }, (_, i) => ({ id: 2000 + i, bin: 'easy-medium' })),
    ...Array.from({ length: 12 }, (_, i) => ({ id: 3000 + i, bin: 'medium' })),
    ...Array.from({ length: 6 }, (_, i) => ({ id: 4000 + i, bin: 'hard' })),
    ...Array.from({ length: 3 }, (_, i) => ({ id: 5000 + i, bin: null })),
  ];

  test('equal counts per bin, as many as the scarcest bin; records in no bin dropped', () => {
    const r = flattenByBins(items, 'broad', '0');
    expect(r.counts).toEqual({ hard: 6, medium: 6, 'easy-medium': 6, easy: 6 });
    expect(binHistogram(r.kept, 'broad')).toEqual({
      bins: [
        { name: 'hard', n: 6 },
        { name: 'medium', n: 6 },
        { name: 'easy-medium', n: 6 },
        { name: 'easy', n: 6 },
      ],
      unbinned: 0,
      total: 24,
    });
    expect(r.kept.map((x) => x.id)).toEqual([...r.kept.map((x) => x.id)].sort((a, b) => a - b));
  });

  test('deterministic in the seed, independent of input order; another seed picks others', () => {
    const a = flattenByBins(items, 'broad', '7').kept.map((x) => x.id);
    const b = flattenByBins([...items].reverse(), 'broad', '7').kept.map((x) => x.id);
    const c = flattenByBins(items, 'broad', '8').kept.map((x) => x.id);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  test('a target histogram: weights per bin, unnamed bins get none', () => {
    const r = flattenByBins(items, 'broad', '0', parseFlattenTarget('hard=1,medium=2', 'broad'));
    expect(r.counts).toEqual({ hard: 6, medium: 12, 'easy-medium': 0, easy: 0 });
    expect(() => parseFlattenTarget('trivial=1', 'broad')).toThrow(/no bin "trivial"/);
    expect(() => parseFlattenTarget('easy-medium=1', 'chain')).toThrow(/chain bins/);
  });

  test('an empty bin is left out of the target with a warning instead of emptying the set', () => {
    const r = flattenByBins(
      items.filter((x) => x.bin !== 'hard'),
      'broad',
      '0',
    );
    expect(r.counts).toEqual({ hard: 0, medium: 12, 'easy-medium': 12, easy: 12 });
    expect(r.warnings).toEqual(['bin hard has no records: flattened over the other bins']);
  });
});

describe("curricula: the paper's tables", () => {
  const dataset = {
    file: 'd.jsonl',
    format: 'jsonl',
    records: 90,
    per_bin: { hard: 10, medium: 10, 'easy-medium': 10, easy: 10 },
    unbinned: 0,
  };
  const plan = (
    c: CurriculumName,
    steps = 40_000,
    batchSize = 64,
    binSet: 'broad' | 'chain' = c === 'soft' || c === 'hard' ? 'chain' : 'broad',
  ) =>
    buildCurriculumPlan({
      curriculum: c,
      binSet,
      steps,
      batchSize,
      bins: BIN_SETS[binSet].map(({ name, min, max }) => ({ name, min, max })),
      dataset,
    });
  /** [from, to, easy, medium, hard] (and easy-medium for broad bins) */
  const table = (c: CurriculumName) => plan(c).phases.map((p) => [p.start_step, p.end_step, p.weights]);

  test('soft', () => {
    expect(table('soft')).toEqual([
      [0, 7500, { hard: 0.05, medium: 0.15, easy: 0.8 }],
      [7500, 17500, { hard: 0.05, medium: 0.8, easy: 0.15 }],
      [17500, 30000, { hard: 0.45, medium: 0.4, easy: 0.15 }],
      [30000, 40000, { hard: 0.8, medium: 0.15, easy: 0.05 }],
    ]);
  });

  test('hard', () => {
    expect(table('hard')).toEqual([
      [0, 7500, { hard: 0.05, medium: 0.05, easy: 0.9 }],
      [7500, 17500, { hard: 0.05, medium: 0.9, easy: 0.05 }],
      [17500, 40000, { hard: 0.9, medium: 0.05, easy: 0.05 }],
    ]);
  });

  test('classic (broad bins)', () => {
    expect(table('classic')).toEqual([
      [0, 10000, { hard: 0, medium: 0, 'easy-medium': 0, easy: 1 }],
      [10000, 15000, { hard: 0, medium: 0.25, 'easy-medium': 0, easy: 0.75 }],
      [15000, 25000, { hard: 0, medium: 1, 'easy-medium': 0, easy: 0 }],
      [25000, 30000, { hard: 0.25, medium: 0.75, 'easy-medium': 0, easy: 0 }],
      [30000, 40000, { hard: 1, medium: 0, 'easy-medium': 0, easy: 0 }],
    ]);
  });

  test('reverse: classic mirrored, hard first', () => {
    expect(table('reverse')).toEqual([
      [0, 10000, { hard: 1, medium: 0, 'easy-medium': 0, easy: 0 }],
      [10000, 15000, { hard: 0.75, medium: 0.25, 'easy-medium': 0, easy: 0 }],
      [15000, 25000, { hard: 0, medium: 1, 'easy-medium': 0, easy: 0 }],
      [25000, 30000, { hard: 0, medium: 0.75, 'easy-medium': 0, easy: 0.25 }],
      [30000, 40000, { hard: 0, medium: 0, 'easy-medium': 0, easy: 1 }],
    ]);
    const classic = plan('classic').phases.map((p) => p.weights);
    const reverse = plan('reverse').phases.map((p) => p.weights);
    for (const [i, w] of reverse.entries()) expect(w).toEqual({ ...classic[i], hard: classic[i]?.easy, easy: classic[i]?.hard });
  });

  test('medium-to-easy', () => {
    expect(table('medium-easy')).toEqual([
      [0, 17500, { hard: 0, medium: 1, 'easy-medium': 0, easy: 0 }],
      [17500, 20000, { hard: 0, medium: 0.75, 'easy-medium': 0.25, easy: 0 }],
      [20000, 40000, { hard: 0, medium: 0, 'easy-medium': 1, easy: 0 }],
    ]);
    expect(parseCurriculum('medium-to-easy')).toBe('medium-easy');
  });

  test('uniform: one phase, no weights', () => {
    const p = plan('uniform', 5000);
    expect(p.phases).toEqual([
      {
        start_step: 0,
        end_step: 5000,
        paper_start_step: 0,
        paper_end_step: 40000,
        weights: null,
        per_batch: null,
        draws: null,
        epochs: null,
      },
    ]);
  });

  test('step ranges scale to --steps (nearest step, halves up) and stay contiguous', () => {
    expect(plan('soft', 1000).phases.map((p) => [p.start_step, p.end_step])).toEqual([
      [0, 188],
      [188, 438],
      [438, 750],
      [750, 1000],
    ]);
    expect(scaleStep(7500, 4000)).toBe(750);
    for (const c of CURRICULUM_NAMES) {
      for (const steps of [1, 7, 999, 40_000, 123_457]) {
        const ph = plan(c, steps).phases;
        expect(ph[0]?.start_step).toBe(0);
        expect(ph[ph.length - 1]?.end_step).toBe(steps);
        for (let i = 1; i < ph.length; i++) expect(ph[i]?.start_step).toBe(ph[i - 1]?.end_step);
      }
    }
  });

  test('per-batch counts add up to the batch size; draws and epochs follow the weights', () => {
    const p = plan('soft', 1000, 64);
    expect(p.phases[0]?.per_batch).toEqual({ hard: 3, medium: 10, easy: 51 });
    for (const ph of p.phases) expect(Object.values(ph.per_batch ?? {}).reduce((a, b) => a + b, 0)).toBe(64);
    expect(p.phases[0]?.draws).toEqual({
      hard: Math.round(0.05 * 64 * 188),
      medium: Math.round(0.15 * 64 * 188),
      easy: Math.round(0.8 * 64 * 188),
    });
    expect(p.phases[0]?.epochs?.easy).toBeCloseTo((0.8 * 64 * 188) / 10, 0);
    expect(apportion({ a: 1, b: 1, c: 1 }, 10)).toEqual({ a: 4, b: 3, c: 3 });
  });

  test('warnings: a weighted bin with no records; a bin never sampled; a curriculum whose bins the set lacks', () => {
    const p = buildCurriculumPlan({
      curriculum: 'classic',
      binSet: 'broad',
      steps: 100,
      batchSize: 8,
      bins: [],
      dataset: { ...dataset, per_bin: { hard: 0, medium: 5, 'easy-medium': 5, easy: 5 }, unbinned: 2 },
    });
    expect(p.warnings).toEqual([
      'steps 63-75: bin hard has weight 0.25 but no records',
      'steps 75-100: bin hard has weight 1 but no records',
      'bin easy-medium has 5 records that this curriculum never samples',
      '2 records are in no broad bin and are never sampled',
    ]);
    expect(() => plan('medium-easy', 100, 8, 'chain')).toThrow(/--bins broad/);
  });
});
