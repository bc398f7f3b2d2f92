/**
 * `npm run bench:pg-bytes`: Postgres bytes per seed at the paper's setting (M = 32, 4 turns), measured:
 * a small batch runs on the real stack (dev server, simulator, in-process workers), then each
 * table's pg_total_relation_size (heap + TOAST + indexes) is divided by the seeds. The figure in
 * docs/production.md comes from here; multiply by your seed count for the disk a batch needs.
 * Flags: --seeds N (24) --turns T (4) --attempts M (32) --window W (12)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../workers/config/load-config';
import { ALL_QUEUES, startWorkers } from '../../workers/start-workers';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { batchWorkflowId } from '../../workflows/contracts';
import { startBatch } from '../lib/start-batch';
import { cutSeeds, stdlibDir, writeSeedFile } from '../lib/seed-file';
import { createSimServer } from '../sim';
import { arg, devServer, freshDb } from './bench-stack';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const n = arg('seeds', 24);
  const turns = arg('turns', 4);
  const attempts = arg('attempts', 32);
  const window = arg('window', 12);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-pgbytes-'));
  const file = path.join(tmp, 'seeds.jsonl');
  writeSeedFile(file, cutSeeds({ from: stdlibDir(), count: n, minLines: 25, maxLines: 50, ext: '.py', seed: 11 }));
  const env = await devServer();
  const d = await freshDb('pgbytes');
  const sim = await createSimServer({ port: 0, seed: 3 });
  try {
    const cfg = loadConfig({ ...process.env, DATABASE_URL: d.url, CAIRN_TEACHER_BASE_URL: sim.url, CAIRN_STUDENT_BASE_URL: sim.url });
    const workers = await startWorkers({
      cfg,
      databaseUrl: d.url,
      queues: ALL_QUEUES,
      connection: env.nativeConnection,
      client: env.client,
      namespace: env.namespace,
    });
    const running = workers.run();
    try {
      const t0 = Date.now();
      await startBatch(d.db, env.client, cfg, { seedsFile: file, batchId: 'pgbytes', turns, attempts, env: 'induction', window });
      const r = await env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('pgbytes')).result();
      console.log(
        `batch of ${n} seeds, ${turns} turns, M = ${attempts}: ${r.finished} done, ${r.failed} failed in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
      );
    } finally {
      workers.shutdown();
      await running;
      await workers.close();
    }
    // Sizes as they stand after autovacuum would have run: analyze so the row counts are fresh.
    await d.db.execute(sql.raw('vacuum analyze'));
    const tables = (await d.db.execute(sql.raw(`select tablename::text t from pg_tables where schemaname = 'public' order by 1`))).rows as {
      t: string;
    }[];
    let rows = 0;
    let bytes = 0;
    for (const { t } of tables) {
      const q = (await d.db.execute(sql.raw(`select count(*)::int n, pg_total_relation_size('"${t}"')::float8 b from "${t}"`))).rows[0] as {
        n: number;
        b: number;
      };
      rows += q.n;
      bytes += q.b;
      console.log(
        `  ${t.padEnd(18)} ${String(q.n).padStart(7)} rows ${(q.b / 1024).toFixed(0).padStart(7)} KiB  ${(q.b / n / 1024).toFixed(1).padStart(7)} KiB/seed`,
      );
    }
    const perSeed = bytes / n;
    console.log(
      `Postgres: ${(rows / n).toFixed(0)} rows and ${(perSeed / 1024).toFixed(0)} KiB per seed (M = ${attempts}, ${turns} turns); ` +
        `1,000,000 seeds: ${((perSeed * 1e6) / 1024 ** 3).toFixed(0)} GiB`,
    );
  } finally {
    await sim.close();
    await d.drop();
    await env.teardown();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
