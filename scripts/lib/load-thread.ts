/**
 * The seed load of `startBatch`, run in a worker thread whose heap is capped (see bounded-load.ts):
 * validation (ids staged in Postgres) and the chunked insert. Messages: {progress}, then {result} or {error}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createDb } from '../../db/client';
import { loadSeeds, validateSeedFile } from './load-seeds';
import type { BoundedJob } from './bounded-load';

async function main(): Promise<void> {
  const job = workerData as BoundedJob;
  const { db, pool } = createDb(job.url, { max: 2 });
  try {
    if (job.batchId === undefined) {
      parentPort?.postMessage({ validated: await validateSeedFile(db, job.file, job.skipBad) });
      return;
    }
    // (validated by an earlier job, or here first)
    const load = await loadSeeds(db, job.batchId, job.file, {
      skipBad: job.skipBad,
      validated: job.validated,
      onProgress: (n) => parentPort?.postMessage({ progress: n }),
    });
    parentPort?.postMessage({ load });
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  parentPort?.postMessage({ error: { name: e.name, message: e.message, stack: e.stack } });
});
