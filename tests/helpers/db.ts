/**
 * A fresh Postgres database per test file on the real server (DATABASE_URL's server, else
 * 127.0.0.1:5432), migrated, and dropped afterwards.
 */
import { Client } from 'pg';
import { createDb, migrateDb, type Database } from '../../db/client';
import { LOCAL_ADMIN_URL, withDatabase } from '../../workers/config/find-postgres';
import type { Pool } from 'pg';
import { tracked } from './tracked-processes';
import { batchSettingsFrom, type BatchOptions, type BatchSettings } from '../../workflows/contracts';

/** Valid batch settings for tests that write a batch row directly (defaults, plus overrides). */
export function testSettings(o: Partial<BatchOptions> = {}): BatchSettings {
  return batchSettingsFrom({ seedFile: '/dev/null', ...o });
}

export interface TestDb {
  db: Database;
  pool: Pool;
  url: string;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  return (
    process.env.CAIRN_TEST_ADMIN_URL || (process.env.DATABASE_URL ? withDatabase(process.env.DATABASE_URL, 'postgres') : LOCAL_ADMIN_URL)
  );
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: adminUrl() });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(
      `Tests need a Postgres server at ${adminUrl()} (${(err as Error).message}). Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set CAIRN_TEST_ADMIN_URL.`,
    );
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Drops a database if it exists (with force: a killed owner's connections may linger). */
export async function dropDatabase(name: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`not a test database name: ${name}`);
  await admin((c) => c.query(`drop database if exists ${name} with (force)`));
}

/** A fresh database per call; `migrate: false` leaves it empty (for tests of the migration itself). */
export async function createTestDb(tag: string, o: { migrate?: boolean } = {}): Promise<TestDb> {
  const name = `cairn_t_${tag}_${process.pid}_${Date.now() % 100000}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await admin((c) => c.query(`create database ${name}`));
  const url = withDatabase(adminUrl(), name);
  const { db, pool } = createDb(url, { max: 10 });
  const tdb = tracked(
    `database ${name}`,
    {
      db,
      pool,
      url,
      drop: async () => {
        await pool.end();
        await dropDatabase(name);
      },
    },
    'drop',
  );
  try {
    if (o.migrate !== false) await migrateDb(db);
  } catch (err) {
    await tdb.drop().catch(() => undefined);
    throw err;
  }
  return tdb;
}
