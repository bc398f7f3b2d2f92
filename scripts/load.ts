/**
 * Streaming seed loading for `cairn batch start`: pass 1 validates every line (constant memory but
 * for the set of ids), pass 2 inserts in chunks with one multi-row INSERT ... SELECT unnest(...)
 * per chunk, ON CONFLICT DO NOTHING, so running it twice loads nothing twice. A bad line stops
 * the load before anything is written (or with skipBad, is skipped and reported).
 */
import fs from 'node:fs';
import readline from 'node:readline';
import type { Database } from '../db/client';
import { SeedFileError, parseSeedLine, type SeedRecord } from './seeds';

export interface BadLine { line: number; reason: string }
export interface LoadResult { total: number; inserted: number; bad: BadLine[]; ms: number }

async function* lines(file: string): AsyncGenerator<{ n: number; text: string }> {
  if (!fs.existsSync(file)) throw new SeedFileError(`Seed file ${file} does not exist. Make one with \`npx cairn seeds cut --out ${file}\`.`);
  const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n++;
    if (text.trim() !== '') yield { n, text };
  }
}

/** Pass 1: every line valid, ids unique. Returns the bad lines (throws on the first unless skipBad). */
export async function validateSeedFile(file: string, skipBad: boolean): Promise<{ count: number; bad: BadLine[] }> {
  const seen = new Set<string>();
  const bad: BadLine[] = [];
  let count = 0;
  for await (const { n, text } of lines(file)) {
    try {
      const s = parseSeedLine(text, n, `${file}:${n}`);
      if (seen.has(s.id)) throw new SeedFileError(`${file}:${n}: id ${JSON.stringify(s.id)} appears twice; seed ids must be unique.`);
      seen.add(s.id);
      count++;
    } catch (err) {
      if (!(err instanceof SeedFileError) || !skipBad) throw err;
      bad.push({ line: n, reason: err.message });
    }
  }
  if (count === 0) throw new SeedFileError(`${file} holds no ${bad.length ? 'valid ' : ''}seeds.`);
  return { count, bad };
}

async function insertChunk(db: Database, batchId: string, chunk: SeedRecord[]): Promise<number> {
  // pg sends each JS array as one Postgres array parameter: one round trip per chunk.
  const res = await db.$client.query(
    `insert into seeds (batch_id, seed_id, kind, snippet, source)
     select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[])
     on conflict do nothing`,
    [batchId, chunk.map((s) => s.id), chunk.map((s) => s.kind), chunk.map((s) => s.snippet), chunk.map((s) => s.source)],
  );
  return res.rowCount ?? 0;
}

/** Pass 2 (after validateSeedFile): streams the file into Postgres in chunks. */
/** A chunk is flushed at this many rows or this many bytes of snippet text, whichever comes first. */
export const CHUNK_ROWS = 2000;
export const CHUNK_BYTES = 8 << 20;

export async function loadSeeds(db: Database, batchId: string, file: string, o: { skipBad: boolean; chunk?: number; onProgress?: (n: number) => void }): Promise<LoadResult> {
  const t0 = Date.now();
  const { bad } = await validateSeedFile(file, o.skipBad);
  const badLines = new Set(bad.map((b) => b.line));
  const size = o.chunk ?? CHUNK_ROWS;
  let chunk: SeedRecord[] = [];
  let bytes = 0;
  let total = 0;
  let inserted = 0;
  for await (const { n, text } of lines(file)) {
    if (badLines.has(n)) continue;
    const seed = parseSeedLine(text, n, `${file}:${n}`);
    chunk.push(seed);
    bytes += seed.snippet.length;
    if (chunk.length >= size || bytes >= CHUNK_BYTES) {
      inserted += await insertChunk(db, batchId, chunk);
      total += chunk.length;
      chunk = [];
      bytes = 0;
      o.onProgress?.(total);
    }
  }
  if (chunk.length) {
    inserted += await insertChunk(db, batchId, chunk);
    total += chunk.length;
    o.onProgress?.(total);
  }
  return { total, inserted, bad, ms: Date.now() - t0 };
}
