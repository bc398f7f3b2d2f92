/** Dedup keys and the atomic valid-or-duplicate decision, on the real Postgres. */
import { dedupKeys } from '../../activities/dedup';
import { upsertBatch } from '../../db/queries/batches';
import { sql } from 'drizzle-orm';
import { getProblem, insertProblem, minhashSimilarity, settleValidProblem } from '../../db/queries/problems';
import { batchSummary } from '../../db/queries/stats';
import { formatSummary } from '../../scripts/lib/status-text';
import { createTestDb, type TestDb, testSettings } from '../helpers/db';

let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('dedup');
});
afterAll(async () => {
  await tdb?.drop();
});

const A = 'def f(xs, k):\n    """Keep multiples."""\n    return [x for x in xs if x % k == 0]\n';
const A_LAYOUT = 'def f(xs,k):  # same code\n\n    """Keep multiples."""\n    return [x for x in xs if x%k==0]\n';
const A_RENAMED = 'def g(values, m):\n    return [v for v in values if v % m == 0]\n';
const B = 'def f(xs, k):\n    return [x for x in xs if x % k == 1]\n';

test('code keys ignore comments and layout; AST keys also ignore names and docstrings', async () => {
  const [a, layout, renamed, b] = await Promise.all([A, A_LAYOUT, A_RENAMED, B].map(dedupKeys));
  expect(layout?.codeHash).toBe(a?.codeHash);
  expect(renamed?.codeHash).not.toBe(a?.codeHash);
  expect(renamed?.astHash).toBe(a?.astHash);
  expect(b?.astHash).not.toBe(a?.astHash);
  expect(await dedupKeys('def f(:\n')).toBeNull();
});

async function problem(batchId: string, key: string, code: string) {
  return insertProblem(tdb.db, {
    key,
    batchId,
    seedId: 's',
    env: 'induction',
    turn: 1,
    chainId: 'c',
    instruction: 'initial',
    code,
    inputs: ['1'],
  });
}

test('the second of two identical problems is a duplicate (recorded, with its reason), across batches when global', async () => {
  await upsertBatch(tdb.db, 'D1', testSettings());
  await upsertBatch(tdb.db, 'D2', testSettings());
  const p1 = await problem('D1', 'D1/s/t1', A);
  const p2 = await problem('D1', 'D1/s/t2', A_RENAMED);
  const p3 = await problem('D2', 'D2/s/t1', A_LAYOUT);
  const p4 = await problem('D2', 'D2/s/t2', B);
  expect(await settleValidProblem(tdb.db, p1, await dedupKeys(A), {}, 'global')).toBeNull();
  expect(await settleValidProblem(tdb.db, p2, await dedupKeys(A_RENAMED), {}, 'global')).toEqual({ duplicateOf: p1.id, same: 'ast' });
  expect(await settleValidProblem(tdb.db, p3, await dedupKeys(A_LAYOUT), {}, 'batch')).toBeNull(); // other batch, batch scope
  expect(await settleValidProblem(tdb.db, p4, await dedupKeys(B), {}, 'global')).toBeNull();
  const d = await getProblem(tdb.db, p2.id);
  expect(d).toMatchObject({ status: 'duplicate', duplicateOf: p1.id });
  expect(d.invalidReason).toMatch(/duplicates an earlier one/);
});

test('two identical problems settled at the same time end as one valid and one duplicate', async () => {
  await upsertBatch(tdb.db, 'D3', testSettings());
  const code = 'def f(n):\n    return n * 7 + 3\n';
  const ps = await Promise.all(Array.from({ length: 6 }, (_, i) => problem('D3', `D3/s${i}/t1`, code)));
  const keys = await dedupKeys(code);
  const res = await Promise.all(ps.map((p) => settleValidProblem(tdb.db, p, keys, {}, 'batch')));
  expect(res.filter((r) => r === null)).toHaveLength(1);
});

const GRID =
  'def f(grid):\n    total = 0\n    for row in grid:\n        for cell in row:\n            if cell > 0 and cell % 2 == 0:\n                total += cell\n    return total\n';
// Renamed, reformatted, commented, and a constant changed: the AST hash differs, the normalized tokens do not.
const GRID_NEAR =
  'def count_cells(matrix):\n    # the positive multiples of three\n    acc = 0\n    for r in matrix:\n        for v in r:\n            if v > 0 and v % 3 == 0: acc += v\n    return acc\n';
const OTHER = "def f(s):\n    words = s.split()\n    return ' '.join(w[::-1] for w in words if len(w) > 2)\n";

test('near-duplicates: a renamed, reformatted near-copy in another batch is a duplicate (never graded); a different problem is not', async () => {
  await upsertBatch(tdb.db, 'N1', testSettings());
  await upsertBatch(tdb.db, 'N2', testSettings());
  const g = await dedupKeys(GRID);
  const near = await dedupKeys(GRID_NEAR);
  const other = await dedupKeys(OTHER);
  expect(near?.astHash).not.toBe(g?.astHash); // not an exact (AST) duplicate
  const p1 = await problem('N1', 'N1/s/t1', GRID);
  const p2 = await problem('N2', 'N2/s/t1', GRID_NEAR);
  const p3 = await problem('N2', 'N2/s/t2', OTHER);
  expect(await settleValidProblem(tdb.db, p1, g, {}, 'global', 0.8)).toBeNull();
  // Off, or batch scope: the near-copy in the other batch stays.
  const p2b = await problem('N2', 'N2/s2/t1', GRID_NEAR);
  expect(await settleValidProblem(tdb.db, p2b, near, {}, 'batch', 0.8)).toBeNull();
  await tdb.db.execute(sql`update problems set status = 'proposed' where id = ${p2b.id}`);
  const res = await settleValidProblem(tdb.db, p2, near, {}, 'global', 0.8);
  expect(res).toMatchObject({ duplicateOf: p1.id, same: 'near' });
  expect(res && 'similarity' in res ? res.similarity : 0).toBeGreaterThanOrEqual(0.8);
  const d = await getProblem(tdb.db, p2.id);
  expect(d).toMatchObject({ status: 'duplicate', duplicateOf: p1.id });
  expect(d.invalidReason).toMatch(/^Near-duplicate: .*near-copy of an earlier one/);
  expect(await settleValidProblem(tdb.db, p3, other, {}, 'global', 0.8)).toBeNull();
  expect(minhashSimilarity(g!.minhash, other!.minhash)).toBeLessThan(0.3);
  const summary = await batchSummary(tdb.db, 'N2');
  expect(summary.nearDuplicates).toBe(1);
  expect(formatSummary(summary)).toMatch(
    /near-duplicates \(near-copies of an earlier problem; not graded, counted in duplicate above\): 1/,
  );
});

test('near-duplicates off: the same near-copy is valid (exact dedup only)', async () => {
  await upsertBatch(tdb.db, 'N3', testSettings());
  const p = await problem('N3', 'N3/s/t1', GRID_NEAR);
  const keys = await dedupKeys(GRID_NEAR);
  expect(keys?.minhash).toHaveLength(128);
  expect(await settleValidProblem(tdb.db, p, keys, {}, 'global', 'off')).toBeNull();
  expect((await getProblem(tdb.db, p.id)).lshBands).toHaveLength(32); // stored anyway, for later batches that check
});
