/**
 * Seed loading in a worker thread with a capped heap, so `cairn batch start` uses the same memory for
 * 10,000,000 seeds as for 100,000. The loader keeps nothing per seed (duplicate ids are found by
 * Postgres), but its garbage (parsed lines, chunk arrays, query parameters) would otherwise let V8
 * grow the heap for as long as the load runs; a capped heap collects it instead.
 */
import { Worker } from 'node:worker_threads';
import type { Database } from '../../db/client';
import { SeedFileError } from './seed-file';
import type { BadLine, LoadResult } from './load-seeds';

/** The loader thread's old-generation heap, MB: the live set is one chunk (at most 8 MB of snippets) and its query. */
export const LOADER_HEAP_MB = 128;

export interface BoundedJob {
  url: string;
  file: string;
  skipBad: boolean;
  /** Absent: validate only. */
  batchId?: string;
  validated?: { count: number; bad: BadLine[] };
}

type Reply =
  | { progress: number }
  | { validated: { count: number; bad: BadLine[] } }
  | { load: LoadResult }
  | { error: { name: string; message: string; stack?: string } };

/** The connection string the pool was built from (createDb), or null. */
export function urlOf(db: Database): string | null {
  return db.$client.options.connectionString ?? null;
}

export async function runBounded(job: BoundedJob, onProgress?: (n: number) => void): Promise<Reply> {
  // The thread loads the TypeScript source through tsx, as the CLI does (worker threads do not inherit require hooks).
  const w = new Worker(`require('tsx/cjs'); require(${JSON.stringify(require.resolve('./load-thread.ts'))});`, {
    eval: true,
    workerData: job,
    resourceLimits: { maxOldGenerationSizeMb: LOADER_HEAP_MB },
  });
  return new Promise<Reply>((resolve, reject) => {
    let done: Reply | undefined;
    w.on('message', (m: Reply) => {
      if ('progress' in m) onProgress?.(m.progress);
      else done = m;
    });
    w.once('error', (err: Error & { code?: string }) =>
      reject(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new Error(`loading ${job.file} needed more than ${LOADER_HEAP_MB} MB of heap (a line far larger than 8 MB?): ${err.message}`)
          : err,
      ),
    );
    w.once('exit', (code) => (done ? resolve(done) : reject(new Error(`the seed loader thread exited with ${code} before answering`))));
  }).then((r) => {
    if ('error' in r) {
      const e = r.error.name === 'SeedFileError' ? new SeedFileError(r.error.message) : new Error(r.error.message);
      if (r.error.stack) e.stack = r.error.stack;
      throw e;
    }
    return r;
  });
}

export async function validateBounded(db: Database, file: string, skipBad: boolean): Promise<{ count: number; bad: BadLine[] } | null> {
  const url = urlOf(db);
  if (!url) return null;
  const r = await runBounded({ url, file, skipBad });
  return 'validated' in r ? r.validated : null;
}

export async function loadBounded(
  db: Database,
  batchId: string,
  file: string,
  o: { skipBad: boolean; validated?: { count: number; bad: BadLine[] }; onProgress?: (n: number) => void },
): Promise<LoadResult | null> {
  const url = urlOf(db);
  if (!url) return null;
  const r = await runBounded({ url, file, skipBad: o.skipBad, batchId, validated: o.validated }, o.onProgress);
  return 'load' in r ? r.load : null;
}
