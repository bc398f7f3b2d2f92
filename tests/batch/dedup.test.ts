/** Dedup keys and the atomic valid-or-duplicate decision, on the real Postgres. */
import { dedupKeys } from '../../activities/dedup';
import { upsertBatch } from '../../db/queries/batches';
import { getProblem, insertProblem, settleValidProblem } from '../../db/queries/problems';
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
