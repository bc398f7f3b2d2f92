/** Streaming seed loading into the real Postgres: idempotent, all-or-nothing on bad input. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getBatch, seedCounts, upsertBatch } from '../../db/queries/batches';
import { loadSeeds, validateSeedFile } from '../../scripts/lib/load-seeds';
import { createTestDb, type TestDb, testSettings } from '../helpers/db';

let tdb: TestDb;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-load-'));
beforeAll(async () => {
  tdb = await createTestDb('load');
});
afterAll(async () => {
  await tdb?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function seedFile(name: string, n: number, bad: Record<number, string> = {}): string {
  const lines = Array.from(
    { length: n },
    (_, i) => bad[i + 1] ?? JSON.stringify({ id: `s${i}`, snippet: `def f${i}(x):\n    return x + ${i}` }),
  );
  const p = path.join(tmp, name);
  fs.writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

test('loads in chunks, and a second load inserts nothing', async () => {
  await upsertBatch(tdb.db, 'L1', testSettings());
  const f = seedFile('ok.jsonl', 2503);
  const seen: number[] = [];
  const a = await loadSeeds(tdb.db, 'L1', f, { skipBad: false, chunk: 1000, onProgress: (n) => seen.push(n) });
  expect(a).toMatchObject({ total: 2503, inserted: 2503, bad: [] });
  expect(seen).toEqual([1000, 2000, 2503]);
  const b = await loadSeeds(tdb.db, 'L1', f, { skipBad: false, chunk: 1000 });
  expect(b).toMatchObject({ total: 2503, inserted: 0 });
  expect((await seedCounts(tdb.db, 'L1')).pending).toBe(2503);
});

test('a bad line stops the load before anything is written, naming file and line', async () => {
  await upsertBatch(tdb.db, 'L2', testSettings());
  const f = seedFile('bad.jsonl', 3000, { 2999: '{"id": "x", "snippet": ', 10: '{"id":"s3","snippet":"dup"}' });
  await expect(loadSeeds(tdb.db, 'L2', f, { skipBad: false })).rejects.toThrow(/bad\.jsonl:2999: not valid JSON/);
  const dup = seedFile('dup.jsonl', 3000, { 10: '{"id":"s3","snippet":"dup"}' });
  await expect(loadSeeds(tdb.db, 'L2', dup, { skipBad: false })).rejects.toThrow(
    /dup\.jsonl:10: id "s3" appears twice \(first on line 4\)/,
  );
  expect((await seedCounts(tdb.db, 'L2')).pending).toBe(0);
  expect(await getBatch(tdb.db, 'L2')).toMatchObject({ loadedAt: null });
});

test('--skip-bad skips and reports every bad line', async () => {
  await upsertBatch(tdb.db, 'L3', testSettings());
  const f = seedFile('skip.jsonl', 50, { 7: 'not json', 20: '{"id":"a b","snippet":"x"}', 30: '[1]' });
  const r = await loadSeeds(tdb.db, 'L3', f, { skipBad: true });
  expect(r.bad.map((b) => b.line)).toEqual([7, 20, 30]);
  expect(r.bad[0]?.reason).toMatch(/skip\.jsonl:7: not valid JSON/);
  expect(r.inserted).toBe(47);
  // Duplicates with --skip-bad: every later occurrence is skipped and named, the first is kept.
  await upsertBatch(tdb.db, 'L4', testSettings());
  const d = seedFile('dups.jsonl', 40, {
    12: '{"id":"s2","snippet":"a"}',
    25: '{"id":"s2","snippet":"b"}',
    33: '{"id":"s30","snippet":"c"}',
  });
  const rd = await loadSeeds(tdb.db, 'L4', d, { skipBad: true });
  expect(rd.bad.map((b) => [b.line, b.reason.match(/first on line (\d+)/)?.[1]])).toEqual([
    [12, '3'],
    [25, '3'],
    [33, '31'],
  ]);
  expect(rd.inserted).toBe(37);
  await expect(validateSeedFile(tdb.db, path.join(tmp, 'missing.jsonl'), false)).rejects.toThrow(/does not exist.*cairn seeds cut/);
});
