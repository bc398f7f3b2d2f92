/** Several workers starting at once on a fresh database: migrations run once, under the advisory lock. */
import fs from 'node:fs';
import path from 'node:path';
import { createDb, migrateDb, migrationsFolder } from '../../db/client';
import { createTestDb, type TestDb } from '../helpers/db';

let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('miglock', { migrate: false });
});
afterAll(async () => {
  await tdb?.drop();
});

test('4 concurrent migrations of an empty database all succeed, and each migration is recorded once', async () => {
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  // Four processes' worth of pools (a worker each), started in the same tick.
  const dbs = Array.from({ length: 4 }, () => createDb(tdb.url, { max: 2 }));
  try {
    const results = await Promise.allSettled(dbs.map(({ db }) => migrateDb(db)));
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok']);
  } finally {
    await Promise.all(dbs.map(({ pool }) => pool.end()));
  }
  const { rows } = await tdb.pool.query<{ n: string }>('select count(*) as n from drizzle.__drizzle_migrations');
  expect(Number(rows[0]?.n)).toBe(journal.entries.length);
  const seeds = await tdb.pool.query(`select to_regclass('public.seeds') as t`);
  expect(seeds.rows[0].t).toBe('seeds');
  // The lock is released: a fifth migration (nothing to do) does not wait.
  await migrateDb(tdb.db);
  const held = await tdb.pool.query(`select count(*)::int as n from pg_locks where locktype = 'advisory'`);
  expect(held.rows[0].n).toBe(0);
});
