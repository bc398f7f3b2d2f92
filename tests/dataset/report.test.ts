/**
 * `cairn batch report` over rows written into a fresh database, rendered by headless Chromium:
 * the page must show the numbers the rows imply, compare multi- with single-turn yield on the
 * shared seeds, and load nothing from the network.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeReport } from '../../scripts/report/model';
import { createTestDb, type TestDb } from '../helpers/db';
import { insertBatch, type ProblemSpec } from './fixtures';
import { renderPage } from './tools';

let tdb: TestDb;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-report-'));
const snippet = (s: string) => `def ${s}(xs):\n    return sorted(xs)[:3]\n`;
const llm = { teacher: [100, 50] as [number, number], student: [200, 1000] as [number, number] };

// Multi-turn batch, 4 seeds x 3 turns, two environments.
const MT: ProblemSpec[] = [
  { seed: 'a', turn: 1, passed: 30 },
  { seed: 'a', turn: 2, passed: 16 },
  { seed: 'a', turn: 3, passed: 4 },
  { seed: 'b', turn: 1, passed: 32 },
  { seed: 'b', turn: 2, passed: 20 },
  { seed: 'b', turn: 3, status: 'invalid', reason: 'input 2 raised ZeroDivisionError' },
  { seed: 'c', turn: 1, status: 'invalid', reason: 'No message found! Make sure to correctly format the message.' },
  { seed: 'c', turn: 2, passed: 27 },
  { seed: 'c', turn: 3, passed: 0 },
  { seed: 'd', turn: 1, env: 'deduction', passed: 28 },
  { seed: 'd', turn: 2, env: 'deduction', status: 'duplicate', dupOf: 'a/1' },
  { seed: 'd', turn: 3, env: 'deduction', passed: 10 },
];
// Single-turn batch on seeds a, b, c (other seed ids, same snippets) plus one seed of its own.
const ST: ProblemSpec[] = [
  { seed: 'x1', turn: 1, passed: 32 },
  { seed: 'x1', turn: 2, status: 'invalid', reason: 'input 4 raised ZeroDivisionError' },
  { seed: 'x1', turn: 3, passed: 16 },
  { seed: 'x2', turn: 1, status: 'invalid', reason: 'code does not parse' },
  { seed: 'x2', turn: 2, status: 'invalid', reason: 'code does not parse' },
  { seed: 'x2', turn: 3, status: 'invalid', reason: 'code does not parse' },
  { seed: 'x3', turn: 1, passed: 0 },
  { seed: 'x3', turn: 2, passed: 31 },
  { seed: 'x3', turn: 3, status: 'invalid', reason: 'nondeterministic' },
  { seed: 'e', turn: 1, passed: 16 },
  { seed: 'e', turn: 2, passed: 16 },
  { seed: 'e', turn: 3, passed: 16 },
];

beforeAll(async () => {
  tdb = await createTestDb('dataset_report');
  const settings = {
    env: 'induction',
    envs: ['induction', 'deduction'],
    turns: 3,
    attempts: 32,
    teacherModel: 'sim-teacher',
    studentModel: 'sim-student',
  };
  await insertBatch(tdb.pool, {
    id: 'mt',
    settings,
    seeds: ['a', 'b', 'c', 'd'].map((s) => ({ id: s, snippet: snippet(s), source: `lib/${s}.py:3-4` })),
    problems: MT,
    llm,
  });
  // Grades of mt's attempts: attempt 0 of every problem failed for a protocol violation, attempt 1 on a wrong output.
  await tdb.pool.query(
    `insert into grades (attempt_id, verdict, input_verdicts, cpu_ms)
     select a.id, case when a.idx < 2 then 'fail' else 'pass' end::attempt_verdict,
            case a.idx when 0 then '["ok", "protocol_violation", "skipped"]' when 1 then '["wrong"]' else '["ok"]' end::jsonb, '[]'
     from attempts a join problems p on p.id = a.problem_id where p.batch_id = 'mt'`,
  );
  await insertBatch(tdb.pool, {
    id: 'st',
    settings: { ...settings, mode: 'single' },
    llm,
    problems: ST,
    seeds: [
      { id: 'x1', snippet: snippet('a') },
      { id: 'x2', snippet: snippet('b') },
      { id: 'x3', snippet: snippet('c') },
      { id: 'e', snippet: snippet('e') },
    ],
  });
  // Never picked automatically: st-old shares too few seeds; mt-copy is multi like mt and, from st's side, has no problems.
  await insertBatch(tdb.pool, {
    id: 'st-old',
    settings: { ...settings, mode: 'single' },
    seeds: [{ id: 'a', snippet: snippet('a') }],
    problems: [{ seed: 'a', turn: 1, passed: 16 }],
  });
  await insertBatch(tdb.pool, {
    id: 'mt-copy',
    settings,
    seeds: [
      { id: 'a', snippet: snippet('a') },
      { id: 'b', snippet: snippet('b') },
      { id: 'c', snippet: snippet('c') },
    ],
    problems: [],
  });
}, 60_000);

afterAll(async () => {
  await tdb?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** `data-cell` values of the rendered DOM. */
function cells(dom: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const x of dom.matchAll(/data-cell="([^"]+)"[^>]*>([^<]*)</g)) m.set(x[1] as string, (x[2] as string).trim());
  return m;
}
const bars = (dom: string) => new Map([...dom.matchAll(/data-bar="([^"]+)" data-n="(\d+)"/g)].map((x) => [x[1] as string, Number(x[2])]));

test('the rendered page shows per-turn counts, yields, reasons, histograms, the comparison, chains and tokens', async () => {
  const out = path.join(tmp, 'mt.html');
  const { model } = await writeReport(tdb.db, { batchId: 'mt', out, now: new Date('2026-01-02T03:04:05Z') });
  expect(model.comparison?.other.id).toBe('st');
  const png = path.join(process.env.CAIRN_REPORT_PNG_DIR ?? tmp, 'report-mt.png');
  const dom = renderPage(out, png);
  const c = cells(dom);
  const expectCells = (want: Record<string, string>) =>
    expect(Object.fromEntries(Object.keys(want).map((k) => [k, c.get(k)]))).toEqual(want);

  expectCells({ 'batch-id': 'mt', 'total-seeds': '4', 'total-problems': '12', 'total-valid': '9', 'total-usable': '7' });
  const counts = await tdb.pool.query<{ n: number; p: number }>(
    `select count(*)::int n, count(*) filter (where a.idx = 0)::int p from attempts a join problems p on p.id = a.problem_id where p.batch_id = 'mt'`,
  );
  const { n, p } = counts.rows[0] as { n: number; p: number };
  expect(p).toBeGreaterThan(0);
  expectCells({ 'total-attempts': n.toLocaleString('en-US'), 'total-protocol-violations': String(p) });
  expectCells({
    'turn-1-problems': '4',
    'turn-1-valid': '3',
    'turn-1-invalid': '1',
    'turn-1-duplicate': '0',
    'turn-1-usable': '2',
    'turn-1-yield': '75%',
    'turn-1-usable-yield': '50%',
    'turn-2-problems': '4',
    'turn-2-valid': '3',
    'turn-2-invalid': '0',
    'turn-2-duplicate': '1',
    'turn-2-usable': '3',
    'turn-2-usable-yield': '75%',
    'turn-3-problems': '4',
    'turn-3-valid': '3',
    'turn-3-invalid': '1',
    'turn-3-usable': '2',
    'turn-2-mean-p': ((16 + 20 + 27) / 3 / 32).toFixed(2),
  });
  // Why invalid: the reasons, by turn.
  expect(dom).toContain('input N raised ZeroDivisionError');
  expect(dom).toContain('No message found!');
  const reasons = [...dom.matchAll(/data-reason="(\d+)">([^<]*)</g)].map((x) => x[2]);
  expect(reasons).toHaveLength(2);
  expect(c.get(`reason-${reasons.indexOf('input N raised ZeroDivisionError')}-turn-3`)).toBe('1');

  // Histograms: per turn and per environment (0.9-1.0 holds 30/32 and 28/32; p = 1 and p = 0 apart).
  const b = bars(dom);
  expect(b.get('turn-1:0.9-1.0')).toBe(1);
  expect(b.get('turn-1:0.8-0.9')).toBe(1);
  expect(b.get('turn-1:1 (all)')).toBe(1);
  expect(b.get('turn-3:0 (none)')).toBe(1);
  expect(b.get('env-deduction:0.8-0.9')).toBe(1);
  expect(b.get('env-deduction:0.3-0.4')).toBe(1);
  expect(b.get('env-induction:0.1-0.2')).toBe(1);
  expect(b.get('turns:turn 2:usable')).toBe(3);

  // Multi vs single on the 3 shared seeds: 5 usable vs 2.
  expectCells({
    'cmp-shared-seeds': '3',
    'cmp-multi-problems': '9',
    'cmp-multi-usable': '5',
    'cmp-single-problems': '9',
    'cmp-single-usable': '2',
    'cmp-single-valid': '4',
    'cmp-ratio': '2.50×',
  });
  expect(c.get('cmp-note')).toMatch(/^Compared with st automatically/);

  // Chains: seed a first (3 graded), its steps in turn order with their pass rates and code.
  const chainIds = [...dom.matchAll(/data-chain="([^"]+)"/g)].map((x) => x[1]);
  expect(chainIds[0]).toBe('mt/a');
  expect(chainIds).toHaveLength(3);
  expectCells({ [`step-${model.chains[0]?.steps[0]?.id}-p`]: '0.94', [`step-${model.chains[0]?.steps[2]?.id}-p`]: '0.13' });
  expect(dom).toContain('# a turn 3');

  // LLM calls: a teacher call per problem (12 x 150 tokens), a student call per graded problem (9 x 1200).
  expectCells({
    'llm-teacher-calls': '12',
    'llm-student-calls': '9',
    'llm-teacher-prompt': '1,200',
    'llm-student-completion': '9,000',
    'total-llm-calls': '21',
    'total-tokens': '12,600',
    'tokens-per-usable': '1,800',
    'llm-turn-1-student-calls': '3',
    'llm-turn-1-teacher-tokens': '600',
  });

  // Self-contained: no script, no external resource.
  const html = fs.readFileSync(out, 'utf8');
  expect(html).not.toMatch(/<script|<link|@import|url\(|(src|href)="(https?:)?\/\//i);
  expect(fs.statSync(png).size).toBeGreaterThan(20_000);
}, 60_000);

test('from the single-turn side, --compare and --no-compare', async () => {
  const a = await writeReport(tdb.db, { batchId: 'st', out: path.join(tmp, 'st.html') });
  expect(a.model.comparison).toMatchObject({
    other: { id: 'mt', mode: 'multi' },
    self: { mode: 'single' },
    sharedSeeds: 3,
    multiOverSingle: 2.5,
  });
  const b = await writeReport(tdb.db, { batchId: 'mt', out: path.join(tmp, 'mt2.html'), compare: 'st-old' });
  expect(b.model.comparison).toMatchObject({
    auto: false,
    sharedSeeds: 1,
    other: { yield: { usable: 1 } },
    self: { yield: { usable: 3 } },
    multiOverSingle: 3,
  });
  const c = await writeReport(tdb.db, { batchId: 'mt', out: path.join(tmp, 'mt3.html'), compare: null });
  expect(c.model.comparison).toBeNull();
  const dom = renderPage(path.join(tmp, 'mt3.html'));
  expect(cells(dom).get('cmp-note')).toBe('Comparison turned off (--no-compare).');
  await expect(writeReport(tdb.db, { batchId: 'nope', out: path.join(tmp, 'x.html') })).rejects.toThrow(/No batch nope/);
  await expect(writeReport(tdb.db, { batchId: 'mt', out: path.join(tmp, 'x.html'), compare: 'mt' })).rejects.toThrow(/different batch/);
}, 60_000);
