/**
 * Streaming seed loading for `cairn batch start`: pass 1 validates every line (constant memory but
 * for the set of ids), pass 2 inserts in chunks with one multi-row INSERT ... SELECT unnest(...)
 * per chunk, ON CONFLICT DO NOTHING, so running it twice loads nothing twice. A bad line stops
 * the load before anything is written (or with skipBad, is skipped and reported).
 */
import fs from 'node:fs';
import readline from 'node:readline';
import type { Database } from '../../db/client';
import { SeedFileError, parseSeedLine, type SeedRecord } from './seed-file';

export interface BadLine {
  line: number;
  reason: string;
}
export interface LoadResult {
  total: number;
  inserted: number;
  bad: BadLine[];
  ms: number;
}

async function* lines(file: string): AsyncGenerator<{ n: number; text: string }> {
  if (!fs.existsSync(file))
    throw new SeedFileError(`Seed file ${file} does not exist. Make one with \`npx cairn seeds cut --out ${file}\`.`);
  const rl = readline.createInterface({
    input: fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }),
    crlfDelay: Infinity,
  });
  let n = 0;
  for await (const text of rl) {
    n++;
    if (text.trim() !== '') yield { n, text };
  }
}

/** 64-bit FNV-1a of a string, as a bigint: ids are checked for uniqueness by hash, in 8 bytes each. */
export function hash64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/**
 * Pass 1: every line valid, ids unique. Memory stays flat for millions of seeds: ids are kept as
 * 64-bit hashes in one typed array, sorted once; only hashes seen twice get a second, exact look.
 */
export async function validateSeedFile(file: string, skipBad: boolean): Promise<{ count: number; bad: BadLine[] }> {
  const bad: BadLine[] = [];
  let hashes = new BigUint64Array(1 << 16);
  let count = 0;
  for await (const { n, text } of lines(file)) {
    try {
      const s = parseSeedLine(text, n, `${file}:${n}`);
      if (count === hashes.length) {
        const bigger = new BigUint64Array(hashes.length * 2);
        bigger.set(hashes);
        hashes = bigger;
      }
      hashes[count++] = hash64(s.id);
    } catch (err) {
      if (!(err instanceof SeedFileError) || !skipBad) throw err;
      bad.push({ line: n, reason: err.message });
    }
  }
  if (count === 0) throw new SeedFileError(`${file} holds no ${bad.length ? 'valid ' : ''}seeds.`);
  const sorted = hashes.subarray(0, count).sort();
  const twice = new Set<bigint>();
  for (let i = 1; i < count; i++) if (sorted[i] === sorted[i - 1]) twice.add(sorted[i] as bigint);
  if (twice.size > 0) {
    // Exact check of the few candidates (a real duplicate, or a hash collision).
    const firstSeen = new Map<string, number>();
    const badLines = new Set(bad.map((b) => b.line));
    for await (const { n, text } of lines(file)) {
      if (badLines.has(n)) continue;
      const s = parseSeedLine(text, n, `${file}:${n}`);
      if (!twice.has(hash64(s.id))) continue;
      if (firstSeen.has(s.id)) {
        const e = new SeedFileError(
          `${file}:${n}: id ${JSON.stringify(s.id)} appears twice (first on line ${firstSeen.get(s.id)}); seed ids must be unique.`,
        );
        if (!skipBad) throw e;
        bad.push({ line: n, reason: e.message });
        count--;
      } else firstSeen.set(s.id, n);
    }
  }
  return { count, bad: bad.sort((a, b) => a.line - b.line) };
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

/** A chunk is flushed at this many rows or this many bytes of snippet text, whichever comes first. */
export const CHUNK_ROWS = 2000;
export const CHUNK_BYTES = 8 << 20;

export async function loadSeeds(
  db: Database,
  batchId: string,
  file: string,
  o: { skipBad: boolean; chunk?: number; onProgress?: (n: number) => void },
): Promise<LoadResult> {
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
