import path from 'node:path';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Pool } from 'pg';
import * as schema from './schema';

export type Database = NodePgDatabase<typeof schema> & { $client: Pool };

/** Builds the pool and the drizzle handle; the caller owns `pool.end()`. */
export function createDb(url: string, opts: { max?: number } = {}): { db: Database; pool: Pool } {
  const pool = new Pool({ connectionString: url, max: opts.max ?? 10 });
  // An idle client losing its server (Postgres restart) must not crash the process; the next
  // query gets a fresh connection and the activity retries.
  pool.on('error', () => undefined);
  return { db: drizzle(pool, { schema }), pool };
}

export const migrationsFolder = path.join(__dirname, 'migrations');

/** Applies the committed SQL migrations (idempotent; drizzle records what ran). */
export async function migrateDb(db: Database): Promise<void> {
  await migrate(db, { migrationsFolder });
}
