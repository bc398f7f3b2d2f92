import path from 'node:path';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Pool } from 'pg';
import * as schema from './schema';

export type Database = NodePgDatabase<typeof schema> & { $client: Pool };

/** The pool size when the caller gives none (workers take CAIRN_PG_POOL_MAX from their config). */
export const DEFAULT_POOL_MAX = 10;

/** Builds the pool and the drizzle handle; the caller owns `pool.end()`. */
export function createDb(url: string, opts: { max?: number } = {}): { db: Database; pool: Pool } {
  const pool = new Pool({ connectionString: url, max: opts.max ?? DEFAULT_POOL_MAX });
  // An idle client losing its server (Postgres restart) must not crash the process; the next
  // query gets a fresh connection and the activity retries.
  pool.on('error', () => undefined);
  return { db: drizzle(pool, { schema }), pool };
}

export const migrationsFolder = path.join(__dirname, 'migrations');

/**
 * The advisory lock key every Cairn process takes while migrating (one per database: advisory
 * locks are per database). Any fixed 64-bit number works; this one is "cairn" in ASCII.
 */
export const MIGRATION_LOCK_KEY = 0x636169726e;

/**
 * Applies the committed SQL migrations (idempotent; drizzle records what ran), under a session
 * advisory lock: several workers starting at once on a fresh database would otherwise race
 * (two `create schema drizzle` or two `create table`s, one failing on a duplicate). The second
 * waits for the first, then finds nothing left to do. The lock and the migration share one
 * connection (advisory locks belong to a session); the lock ends with the session if the process dies.
 */
export async function migrateDb(db: Database): Promise<void> {
  const client = await db.$client.connect();
  let broken = false;
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle(client, { schema }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {
        // The session is gone or broken: drop it from the pool, which releases the lock.
        broken = true;
      });
    }
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    client.release(broken);
  }
}
