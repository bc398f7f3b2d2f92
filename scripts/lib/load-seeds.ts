/**
 * Streaming seed loading for `cairn batch start`: pass 1 validates every line and finds duplicate
 * ids in Postgres (constant memory in this process, for any number of seeds), pass 2 inserts in chunks with one multi-row INSERT ... SELECT unnest(...)
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

/** Ids staged per round trip while validating. */
const STAGE_ROWS = 10_000;

/**
 * Pass 1: every line valid, ids unique. Memory stays flat however many seeds the file holds: the
 * ids go to a temporary table in Postgres (on one connection, dropped at the end) as they are read,
 * and Postgres finds the duplicates; nothing per seed is kept in this process.
 */
export async function validateSeedFile(db: Database, file: string, skipBad: boolean): Promise<{ count: number; bad: BadLine[] }> {
  const bad: BadLine[] = [];
  let count = 0;
  const client = await db.$client.connect();
  let broken = false;
  try {
    // A temp table lives in this session only: two loads at once never see each other's ids.
    await client.query('create temp table if not exists cairn_seed_ids (line int not null, id text not null)');
    await client.query('truncate cairn_seed_ids');
    let lineNos: number[] = [];
    let ids: string[] = [];
    const flush = async () => {
      if (ids.length === 0) return;
      await client.query('insert into cairn_seed_ids (line, id) select * from unnest($1::int[], $2::text[])', [lineNos, ids]);
      lineNos = [];
      ids = [];
    };
    for await (const { n, text } of lines(file)) {
      try {
        const s = parseSeedLine(text, n, `${file}:${n}`);
        lineNos.push(n);
        ids.push(s.id);
        count++;
        if (ids.length >= STAGE_ROWS) await flush();
      } catch (err) {
        if (!(err instanceof SeedFileError) || !skipBad) throw err;
        bad.push({ line: n, reason: err.message });
      }
    }
    await flush();
    if (count === 0) throw new SeedFileError(`${file} holds no ${bad.length ? 'valid ' : ''}seeds.`);
    // Every line after the first with the same id is a duplicate (all of them with skipBad; else the earliest, which stops the load).
    const dups = await client.query<{ id: string; line: number; first: number }>(
      `select id, line, first from (select id, line, min(line) over (partition by id) as first from cairn_seed_ids
         where id in (select id from cairn_seed_ids group by id having count(*) > 1)) d
       where line > first order by line ${skipBad ? '' : 'limit 1'}`,
    );
    for (const d of dups.rows) {
      const e = new SeedFileError(
        `${file}:${d.line}: id ${JSON.stringify(d.id)} appears twice (first on line ${d.first}); seed ids must be unique.`,
      );
      if (!skipBad) throw e;
      bad.push({ line: d.line, reason: e.message });
      count--;
    }
  } catch (err) {
    // A connection that failed mid-query is not handed back to the pool as if healthy.
    if (!(err instanceof SeedFileError)) broken = true;
    throw err;
  } finally {
    if (!broken) await client.query('drop table if exists cairn_seed_ids').catch(() => (broken = true));
    client.release(broken);
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
  o: { skipBad: boolean; chunk?: number; onProgress?: (n: number) => void; validated?: { bad: BadLine[] } },
): Promise<LoadResult> {
  const t0 = Date.now();
  // The caller may have validated the file already (startBatch does, before the batch row exists).
  const { bad } = o.validated ?? (await validateSeedFile(db, file, o.skipBad));
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
