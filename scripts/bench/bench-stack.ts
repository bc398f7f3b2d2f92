/** Shared set-up for benchmarks: a dev server, fresh databases, the simulator, Cairn's activities. */
import { Client as PgClient } from 'pg';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createDb, migrateDb, type Database } from '../../db/client';
import { loadConfig } from '../../workers/config/load-config';
import { LOCAL_ADMIN_URL, withDatabase } from '../../workers/config/find-postgres';
import { SEARCH_ATTRIBUTES } from '../../workflows/contracts';
import { requireTemporalCli } from '../stack/install';

export function adminUrl(): string {
  return process.env.DATABASE_URL ? withDatabase(process.env.DATABASE_URL, 'postgres') : LOCAL_ADMIN_URL;
}

/** A fresh database for one benchmark leg (so no leg gets another's cached LLM calls). */
export async function freshDb(tag: string): Promise<{ db: Database; url: string; drop(): Promise<void>; end(): Promise<void> }> {
  const name = `cairn_bench_${tag}_${process.pid}`;
  const admin = new PgClient({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl(), name);
  const { db, pool } = createDb(url, { max: 20 });
  await migrateDb(db);
  return {
    db,
    url,
    end: () => pool.end(),
    drop: async () => {
      await pool.end().catch(() => undefined);
      const a = new PgClient({ connectionString: adminUrl() });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/**
 * A dev server for a benchmark. Its timer queue reads ahead by `history.timerProcessorMaxTimeShift`
 * (1 s by default), so no timer fires sooner than about a second: at 10 ms, a batch reconciling
 * every 10 ms reconciles several times a second instead of once (the paused leg of bench:scale).
 */
export async function devServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: requireTemporalCli(loadConfig()) },
      searchAttributes: SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error', '--dynamic-config-value', 'history.timerProcessorMaxTimeShift="10ms"'],
    },
  });
}

export function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number >= 0`);
  return v;
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}
