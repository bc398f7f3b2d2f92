/** Helpers shared by the thin command mains: config, Postgres, Temporal client, errors. */
import { InvalidArgumentError } from 'commander';
import { createDb, migrateDb, type Database } from '../../db/client';
import { loadConfig, type Config } from '../../workers/config/load-config';
import { readStackFile, requireDatabaseUrl } from '../../workers/config/find-postgres';
import { connectClient } from '../../workers/config/connect-temporal';
import type { Client } from '@temporalio/client';

export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number >= 1 (got ${v}).`);
    return n;
  };
}

export function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number >= 0 (got ${v}).`);
    return n;
  };
}

export function unitFloat(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a number in [0, 1] (got ${v}).`);
    return n;
  };
}

export function positiveFloat(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`${name} must be a number > 0 (got ${v}).`);
    return n;
  };
}

/** Runs `fn` with config and a migrated database, closing the pool after; errors become exit 1. */
export async function withDb<T>(fn: (ctx: { cfg: Readonly<Config>; db: Database; url: string }) => Promise<T>): Promise<T> {
  const cfg = loadConfig();
  const url = await requireDatabaseUrl(cfg);
  const { db, pool } = createDb(url, { max: 4 });
  try {
    await migrateDb(db);
    return await fn({ cfg, db, url });
  } finally {
    await pool.end();
  }
}

export async function withClient<T>(cfg: Readonly<Config>, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(cfg);
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** Prints a failure as one clear paragraph and sets a non-zero exit code. */
export function fail(err: unknown): void {
  console.error(`cairn: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

/**
 * When a `cairn dev --llm local` stack is running, this process uses its local model too (the
 * endpoint settings it recorded in the stack file), so `cairn batch start` checks and records
 * the endpoints its workers really use. Returns whether it did.
 */
export function adoptDevLlm(): boolean {
  const file = readStackFile(loadConfig());
  if (!file.llmEnv || !file.pid) return false;
  try {
    process.kill(file.pid, 0);
  } catch {
    return false; // a stack file left by a stack that is gone
  }
  Object.assign(process.env, file.llmEnv);
  return true;
}

export type LlmChoice = 'sim' | 'local';

/** `--llm`: sim (the configured endpoints) or local (llama.cpp on CPU). */
export function llmChoice(v: string): LlmChoice {
  if (v === 'sim' || v === 'local') return v;
  throw new InvalidArgumentError(`--llm must be sim or local (got ${v}).`);
}

/** The stack's `localLlm` option from `--llm` and `--model`; `--model` alone is an error. */
export function localLlmOption(o: { llm: LlmChoice; model?: string }): { model?: string } | undefined {
  if (o.model !== undefined && o.llm !== 'local')
    throw new InvalidArgumentError('--model serves a GGUF file with the local server: add --llm local.');
  return o.llm === 'local' ? { model: o.model } : undefined;
}
