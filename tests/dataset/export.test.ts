/**
 * `cairn export` over rows written into a fresh database: band and status filtering, bins,
 * flattening, the curriculum plan file, and JSONL + Parquet round trips (the Parquet file loaded
 * by pyarrow and by Hugging Face `datasets`, as a user would).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportOptions } from '../../scripts/cli/export';
import type { CurriculumPlan } from '../../scripts/dataset/curriculum';
import { curriculumPlanFile, exportBatch, type ExportRecord } from '../../scripts/dataset/exporter';
import { createTestDb, type TestDb } from '../helpers/db';
import { insertBatch, type ProblemSpec } from './fixtures';
import { testPython, runPythonJson } from './tools';

let tdb: TestDb;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-dataset-'));
const M = 32;

/** Solved counts (of 32), skewed to easy like a plain filter leaves a set. */
const SOLVED = [
  ...Array<number>(40)
    .fill(0)
    .map((_, i) => 28 + (i % 4)), // broad easy (0.875-0.969): 28 and 29 are chain easy too
  ...Array<number>(20)
    .fill(0)
    .map((_, i) => 20 + (i % 8)), // broad easy-medium (0.625-0.844)
  ...Array<number>(12)
    .fill(0)
    .map((_, i) => 9 + (i % 11)), // broad medium (0.281-0.594)
  ...Array<number>(6)
    .fill(0)
    .map((_, i) => 4 + (i % 5)), // broad hard (0.125-0.25)
  2,
  2,
  3, // in the band, in no broad bin
  0,
  0,
  0,
  0, // p = 0: dropped by the band
  32,
  32,
  32,
  32,
  32, // p = 1: dropped by the band
];
const FUZZ_CODE = [
  'import math',
  '',
  'def f(xs):',
  '    return sum(xs) // len(xs)',
  '',
  '',
  'def pre_test_f(xs):',
  '    # a list of ints',
  '    return isinstance(xs, list) and all(isinstance(x, int) for x in xs)',
  '',
  '',
  'def test_f(xs):',
  '    if not xs:',
  '        return True',
  '',
  '    return f(xs) == math.floor(sum(xs) / len(xs))',
  '# end',
  '',
].join('\n');
const inBand = SOLVED.filter((k) => k >= 1 && k <= 31);
const countIn = (lo: number, hi: number) => inBand.filter((k) => k >= lo && k <= hi).length;

beforeAll(async () => {
  tdb = await createTestDb('dataset_export');
  const problems: ProblemSpec[] = SOLVED.map((passed, i) => ({
    seed: `s${Math.floor(i / 3)}`,
    turn: (i % 3) + 1,
    passed,
    level: ['hard', 'medium', 'easy'][i % 3],
  }));
  // Never exported whatever their pass rate: invalid, duplicate, graded-but-marked-duplicate, ungraded.
  problems.push(
    { seed: 'x', turn: 1, status: 'invalid', reason: 'No message found!', passRate: 0.5 },
    { seed: 'x', turn: 2, status: 'duplicate', dupOf: 's0/1', passRate: 0.5 },
    { seed: 'x', turn: 3, passed: 16, dupOf: 's0/2' },
    { seed: 'x', turn: 4, status: 'valid' },
  );
  const seedIds = [...new Set(problems.map((p) => p.seed))];
  await insertBatch(tdb.pool, {
    id: 'big',
    settings: { env: 'induction', mode: 'chain', turns: 3, attempts: M, teacherModel: 't', studentModel: 's' },
    seeds: seedIds.map((id) => ({ id, snippet: `def seed_${id}(x):\n    return x\n`, source: `lib/${id}.py:1-2` })),
    problems,
  });
  await insertBatch(tdb.pool, {
    id: 'other',
    settings: { env: 'deduction', turns: 1, attempts: M },
    seeds: [{ id: 'o1', snippet: 'def g(): pass' }],
    problems: [{ seed: 'o1', turn: 1, env: 'deduction', passed: 16 }],
  });
  await insertBatch(tdb.pool, {
    id: 'fuzz',
    settings: { env: 'fuzzing', turns: 1, attempts: M },
    seeds: [{ id: 'z1', snippet: 'def h(): pass' }],
    problems: [{ seed: 'z1', turn: 1, env: 'fuzzing', passed: 8, code: FUZZ_CODE }],
  });
  testPython(); // the venv for the Parquet checks: made once, cached under .tools/pyenv-test
}, 600_000);

afterAll(async () => {
  await tdb?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const readJsonl = (f: string) =>
  fs
    .readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ExportRecord);

test('default export: band 0.01-0.97, graded non-duplicates only, broad bins, every record field', async () => {
  const out = path.join(tmp, 'all.jsonl');
  const r = await exportBatch(tdb.db, { batchId: 'big', out, min: 0.01, max: 0.97 });
  const recs = readJsonl(out);
  expect(r.written).toBe(inBand.length);
  expect(recs).toHaveLength(inBand.length);
  expect(recs.every((x) => x.seed.id !== 'x')).toBe(true);
  expect(r.before.bins).toEqual([
    { name: 'hard', n: countIn(4, 8) },
    { name: 'medium', n: countIn(9, 19) },
    { name: 'easy-medium', n: countIn(20, 27) },
    { name: 'easy', n: countIn(28, 31) },
  ]);
  expect(r.before.unbinned).toBe(3);
  expect(r.after).toBeNull();
  const first = recs[0] as ExportRecord;
  expect(Object.keys(first).sort()).toEqual(
    [
      'attempts',
      'batch_id',
      'chain_id',
      'code',
      'difficulty_bin',
      'env',
      'id',
      'inputs',
      'instruction',
      'level',
      'message',
      'outputs',
      'parent_id',
      'pass_high',
      'pass_low',
      'pass_rate',
      'passed',
      'pre_test_f',
      'seed',
      'test_f',
      'turn',
    ].sort(),
  );
  expect(first).toMatchObject({
    env: 'induction',
    batch_id: 'big',
    turn: 1,
    parent_id: null,
    chain_id: 'big/s0',
    level: 'hard',
    attempts: 32,
    passed: 28,
    pass_rate: 0.875,
    difficulty_bin: 'easy',
  });
  expect([first.pre_test_f, first.test_f]).toEqual([null, null]);
  expect(first.seed).toEqual({ id: 's0', kind: 'snippet', snippet: 'def seed_s0(x):\n    return x\n', source: 'lib/s0.py:1-2' });
  expect(first.inputs).toEqual(['1', "'a', [2, 3]", '{"k": 1}']);
  expect(recs[1]?.parent_id).toBe(first.id);
  for (const x of recs)
    expect(x.difficulty_bin).toBe(
      x.passed <= 3 ? null : x.passed <= 8 ? 'hard' : x.passed <= 19 ? 'medium' : x.passed <= 27 ? 'easy-medium' : 'easy',
    );
});

test('--bins chain labels by the stepping-stone bins; several batches go in one file', async () => {
  const out = path.join(tmp, 'chain.jsonl');
  const r = await exportBatch(tdb.db, { batchId: ['big', 'other'], out, min: 0.01, max: 0.97, bins: 'chain' });
  expect(r.before.bins).toEqual([
    { name: 'hard', n: countIn(2, 5) },
    { name: 'medium', n: countIn(14, 18) + 1 },
    { name: 'easy', n: countIn(26, 29) },
  ]);
  const recs = readJsonl(out);
  expect(recs.filter((x) => x.batch_id === 'other').map((x) => [x.env, x.difficulty_bin])).toEqual([['deduction', 'medium']]);
  expect(recs.filter((x) => x.passed === 30 || x.passed === 10).every((x) => x.difficulty_bin === null)).toBe(true);
});

test('fuzzing records carry pre_test_f and test_f, cut from the code', async () => {
  const out = path.join(tmp, 'fuzz.jsonl');
  await exportBatch(tdb.db, { batchId: 'fuzz', out, min: 0.01, max: 0.97 });
  const [rec] = readJsonl(out);
  expect(rec?.code).toBe(FUZZ_CODE);
  expect(rec?.pre_test_f).toBe(
    'def pre_test_f(xs):\n    # a list of ints\n    return isinstance(xs, list) and all(isinstance(x, int) for x in xs)',
  );
  expect(rec?.test_f).toBe('def test_f(xs):\n    if not xs:\n        return True\n\n    return f(xs) == math.floor(sum(xs) / len(xs))');
});

test('--flatten: equal counts per bin, deterministic in --seed; histogram before and after', async () => {
  const a = path.join(tmp, 'flat-a.jsonl');
  const b = path.join(tmp, 'flat-b.jsonl');
  const c = path.join(tmp, 'flat-c.jsonl');
  const ra = await exportBatch(tdb.db, { batchId: 'big', out: a, min: 0.01, max: 0.97, flatten: true, seed: '42' });
  await exportBatch(tdb.db, { batchId: 'big', out: b, min: 0.01, max: 0.97, flatten: true, seed: '42' });
  await exportBatch(tdb.db, { batchId: 'big', out: c, min: 0.01, max: 0.97, flatten: true, seed: '43' });
  const scarcest = Math.min(countIn(4, 8), countIn(9, 19), countIn(20, 27), countIn(28, 31));
  expect(ra.after?.bins.map((x) => x.n)).toEqual([scarcest, scarcest, scarcest, scarcest]);
  expect(ra.after?.unbinned).toBe(0);
  expect(ra.written).toBe(4 * scarcest);
  expect(fs.readFileSync(b, 'utf8')).toBe(fs.readFileSync(a, 'utf8'));
  expect(fs.readFileSync(c, 'utf8')).not.toBe(fs.readFileSync(a, 'utf8'));
  const hist = new Map<string, number>();
  for (const x of readJsonl(a)) hist.set(String(x.difficulty_bin), (hist.get(String(x.difficulty_bin)) ?? 0) + 1);
  expect(Object.fromEntries(hist)).toEqual({ hard: scarcest, medium: scarcest, 'easy-medium': scarcest, easy: scarcest });
});

test('--curriculum soft writes <out>.curriculum.json over the chain bins, scaled to --steps', async () => {
  const out = path.join(tmp, 'soft.jsonl');
  const o = exportOptions({
    batch: ['big'],
    out,
    min: 0.01,
    max: 0.97,
    seed: '0',
    flatten: true,
    curriculum: 'soft',
    steps: 2000,
    batchSize: 32,
  });
  expect(o.bins).toBe('chain');
  const r = await exportBatch(tdb.db, o);
  const plan = JSON.parse(fs.readFileSync(curriculumPlanFile(out), 'utf8')) as CurriculumPlan;
  expect(plan.schema).toBe('cairn.curriculum/v1');
  expect(plan.bin_set).toBe('chain');
  const n = Math.min(countIn(2, 5), countIn(14, 18), countIn(26, 29));
  expect(plan.dataset).toEqual({
    file: 'soft.jsonl',
    format: 'jsonl',
    records: 3 * n,
    per_bin: { hard: n, medium: n, easy: n },
    unbinned: 0,
  });
  expect(r.written).toBe(3 * n);
  expect(plan.phases.map((p) => [p.start_step, p.end_step, p.paper_start_step, p.paper_end_step, p.weights])).toEqual([
    [0, 375, 0, 7500, { hard: 0.05, medium: 0.15, easy: 0.8 }],
    [375, 875, 7500, 17500, { hard: 0.05, medium: 0.8, easy: 0.15 }],
    [875, 1500, 17500, 30000, { hard: 0.45, medium: 0.4, easy: 0.15 }],
    [1500, 2000, 30000, 40000, { hard: 0.8, medium: 0.15, easy: 0.05 }],
  ]);
  expect(plan.phases[0]?.per_batch).toEqual({ hard: 2, medium: 5, easy: 25 });
});

test('flag mistakes are reported before anything is opened', () => {
  const base = { batch: ['big'], out: path.join(tmp, 'x.jsonl'), min: 0.01, max: 0.97, seed: '0' };
  expect(() => exportOptions({ ...base, curriculum: 'soft' })).toThrow(/--steps N/);
  expect(() => exportOptions({ ...base, curriculum: 'spicy', steps: 1, batchSize: 1 })).toThrow(
    /choose one of soft, hard, classic, reverse, medium-easy, uniform/,
  );
  expect(() => exportOptions({ ...base, bins: 'fine' })).toThrow(/broad, chain/);
  expect(() => exportOptions({ ...base, format: 'csv' })).toThrow(/jsonl, parquet/);
  expect(() => exportOptions({ ...base, flattenTarget: 'easy=1' })).toThrow(/goes with --flatten/);
  expect(exportOptions({ ...base, out: 'd.parquet' }).format).toBe('parquet');
  expect(exportOptions({ ...base, all: true })).toMatchObject({ min: 0, max: 1, bins: 'broad', format: 'jsonl' });
});

/** Reads the Parquet file with pyarrow and with `datasets.load_dataset('parquet')`; prints JSON. */
const PY_LOAD = `
import json, sys
import pyarrow.parquet as pq
from datasets import load_dataset
f = sys.argv[1]
t = pq.read_table(f)
meta = json.loads(pq.ParquetFile(f).metadata.metadata[b'cairn'])
# datasets refuses a split with no rows ("corresponds to no data"): pyarrow alone checks an empty file.
ds = load_dataset('parquet', data_files=f, split='train') if t.num_rows else None
print(json.dumps({
  'schema': {n: str(t.schema.field(n).type) for n in t.schema.names},
  'rows': t.to_pylist(),
  'meta': meta,
  'hf_features': {k: repr(v) for k, v in ds.features.items()} if ds else None,
  'hf_rows': [ds[i] for i in range(len(ds))] if ds else None,
}))
`;

interface PyOut {
  schema: Record<string, string>;
  rows: ExportRecord[];
  meta: { bins: string; band: { min: number; max: number } };
  hf_features: Record<string, string>;
  hf_rows: ExportRecord[];
}

test('Parquet round trip: pyarrow and Hugging Face datasets read the same records as the JSONL', async () => {
  const jsonl = path.join(tmp, 'rt.jsonl');
  const parquet = path.join(tmp, 'rt.parquet');
  const opts = { batchId: ['big', 'other', 'fuzz'], min: 0.01, max: 0.97 } as const;
  await exportBatch(tdb.db, { ...opts, out: jsonl });
  const r = await exportBatch(tdb.db, { ...opts, out: parquet, curriculum: { name: 'uniform', steps: 100, batchSize: 8 } });
  expect(r.format).toBe('parquet');
  const expected = readJsonl(jsonl);
  expect(r.written).toBe(expected.length);
  expect(expected.filter((x) => x.env === 'fuzzing' && x.test_f)).toHaveLength(1);
  const py = runPythonJson<PyOut>(PY_LOAD, [parquet]);
  expect(py.schema).toMatchObject({
    id: 'int64',
    seed: 'struct<id: string not null, kind: string not null, snippet: string not null, source: string>',
    inputs: 'list<item: string>',
    outputs: 'list<item: string>',
    pass_rate: 'double',
    turn: 'int32',
    parent_id: 'int64',
    difficulty_bin: 'string',
    pre_test_f: 'string',
    test_f: 'string',
  });
  expect(py.rows).toEqual(expected);
  expect(py.hf_rows).toEqual(expected);
  expect(py.hf_features.inputs).toMatch(/List\(Value\('string'\)\)|Sequence\(feature=Value\(dtype='string'/);
  expect(py.meta).toMatchObject({ bins: 'broad', band: { min: 0.01, max: 0.97 } });
  const plan = JSON.parse(fs.readFileSync(`${parquet}.curriculum.json`, 'utf8')) as CurriculumPlan;
  expect(plan.dataset.format).toBe('parquet');
  expect(plan.phases).toHaveLength(1);
});

test('an empty export is a valid Parquet file with the schema', async () => {
  const parquet = path.join(tmp, 'empty.parquet');
  const r = await exportBatch(tdb.db, { batchId: 'big', out: parquet, min: 0.51, max: 0.51 });
  expect(r.written).toBe(0);
  const py = runPythonJson<PyOut>(PY_LOAD, [parquet]);
  expect(py.rows).toEqual([]);
  expect(Object.keys(py.schema)).toContain('difficulty_bin');
});
