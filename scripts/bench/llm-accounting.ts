/**
 * `npm run bench:llm [-- --seeds 6 --turns 2 --attempts 16 --rate429 0.3 --seed 1]`: the issue's
 * "done when" on the real stack (Temporal dev server, Postgres, real workers and sandbox, the
 * simulator over HTTP). The student endpoint has no `n` (CAIRN_STUDENT_USE_N=0) and the simulator
 * answers `--rate429` of all requests with 429 + Retry-After; one extra seed is long enough that its
 * teacher prompt gets a context-length 400. Prints student and teacher samples paid (served with
 * content by the simulator) vs kept (attempt rows, problems), and what became of the long seed;
 * exits non-zero when paid > 1.15 x kept, the batch paused, or the long seed's turns are not invalid
 * with the reason.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { WorkerOptions } from '@temporalio/worker';
import { loadConfig } from '../../workers/config/load-config';
import { ALL_QUEUES, startWorkers } from '../../workers/start-workers';
import { batchWorkflowId, progressQuery } from '../../workflows/contracts';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { startBatch } from '../lib/start-batch';
import { cutSeeds, stdlibDir, writeSeedFile } from '../lib/seed-file';
import { createSimServer } from '../sim';
import { arg, devServer, freshDb } from './bench-stack';

export interface LlmAccountingOptions {
  seeds: number;
  turns: number;
  attempts: number;
  rate429: number;
  seed: number;
  /** Tests pass their bundle (bundled once per file). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  log?: (m: string) => void;
}

export interface LlmAccounting {
  student: { paid: number; kept: number; requests: Record<string, number> };
  teacher: { paid: number; kept: number; requests: Record<string, number> };
  batch: { started: number; finished: number; failed: number; paused: boolean };
  /** The long seed's turns: status and reason. */
  longSeed: { status: string; reason: string | null }[];
  problemsFailed: number;
  /** Context-length refusals on seeds other than the long one (0, or the limit is set wrong). */
  otherRefused: number;
  wallS: number;
}

/**
 * Prompts longer than this get a context-length 400. Cairn cuts a seed to 6,000 characters in the
 * teacher prompt, so the long seed's prompts are about 7,100-7,600 characters; the cut seeds' stay
 * well under (about 1,500 on turn 1, a few thousand with a summary). `otherRefused` checks that.
 */
const CONTEXT_LIMIT_CHARS = 6_800;

export async function runLlmAccounting(o: LlmAccountingOptions): Promise<LlmAccounting> {
  const log = o.log ?? (() => undefined);
  const t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-llm-bench-'));
  const [env, fdb, sim] = await Promise.all([
    devServer(),
    freshDb('llm'),
    createSimServer({ port: 0, seed: o.seed, rate429: o.rate429, retryAfterS: 1, contextLimitChars: CONTEXT_LIMIT_CHARS }),
  ]);
  let workers: Awaited<ReturnType<typeof startWorkers>> | undefined;
  let running: Promise<void> = Promise.resolve();
  try {
    const cfg = loadConfig({
      ...process.env,
      DATABASE_URL: fdb.url,
      TEMPORAL_ADDRESS: env.address,
      CAIRN_TEACHER_BASE_URL: sim.url,
      CAIRN_STUDENT_BASE_URL: sim.url,
      CAIRN_STUDENT_USE_N: '0',
    });
    workers = await startWorkers({
      cfg,
      databaseUrl: fdb.url,
      queues: ALL_QUEUES,
      connection: env.nativeConnection,
      namespace: env.namespace,
      ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : {}),
    });
    running = workers.run();
    const seeds = cutSeeds({ from: stdlibDir(), count: o.seeds, minLines: 15, maxLines: 30, ext: '.py', seed: o.seed });
    const longSnippet = `def long_one(x):\n${'    x = (x * 31 + 7) % 1000003  # a long seed: its prompt is over the context limit\n'.repeat(600)}    return x`;
    const file = path.join(tmp, 'seeds.jsonl');
    writeSeedFile(file, [...seeds, { id: 'long', kind: 'snippet', source: null, snippet: longSnippet }]);
    const batchId = `llm-${o.seed}`;
    log(
      `batch ${batchId}: ${seeds.length} + 1 long seeds, ${o.turns} turns, M = ${o.attempts}, student without n, ${o.rate429 * 100}% 429s`,
    );
    await startBatch(fdb.db, env.client, cfg, {
      seedsFile: file,
      batchId,
      turns: o.turns,
      attempts: o.attempts,
      env: 'induction',
      dedup: 'batch',
    });
    const handle = env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId(batchId));
    // A paused batch never finishes: watch for it instead of waiting for ever.
    let paused = false;
    let over = false;
    // A paused batch never finishes: watch for it instead of waiting for ever (awaited before teardown).
    const watcher = (async () => {
      while (!over) {
        await new Promise((r) => setTimeout(r, 1000));
        if (over) return null;
        const p = await handle.query(progressQuery).catch(() => null);
        if (p?.paused) {
          paused = true;
          return { started: p.started, finished: p.finished, failed: p.failed, cancelled: false };
        }
      }
      return null;
    })();
    const result = await Promise.race([handle.result(), watcher]);
    over = true;
    await watcher;
    if (!result) throw new Error('the batch neither finished nor paused');
    const n = async (q: string) => Number((await fdb.db.execute(sql.raw(q))).rows[0]?.n ?? 0);
    const stats = sim.stats();
    const longRows = (
      await fdb.db.execute(
        sql.raw(`select status::text, invalid_reason from problems where batch_id = '${batchId}' and seed_id = 'long' order by turn`),
      )
    ).rows as { status: string; invalid_reason: string | null }[];
    return {
      student: {
        paid: stats.samples.student,
        kept: await n(`select count(*) n from attempts a join problems p on p.id = a.problem_id where p.batch_id = '${batchId}'`),
        requests: stats.byRole.student,
      },
      teacher: {
        paid: stats.samples.teacher,
        kept: await n(`select count(*) n from problems where batch_id = '${batchId}' and teacher_call_id is not null`),
        requests: stats.byRole.teacher,
      },
      batch: { started: result.started, finished: result.finished, failed: result.failed, paused },
      longSeed: longRows.map((r) => ({ status: r.status, reason: r.invalid_reason })),
      problemsFailed: await n(`select count(*) n from problems where batch_id = '${batchId}' and status = 'failed'`),
      otherRefused: await n(
        `select count(*) n from problems where batch_id = '${batchId}' and seed_id <> 'long' and invalid_reason like '%maximum context length%'`,
      ),
      wallS: (Date.now() - t0) / 1000,
    };
  } finally {
    workers?.shutdown();
    await running.catch(() => undefined);
    await workers?.close();
    await sim.close();
    await fdb.drop();
    await env.teardown();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The checks the issue asks for; empty when all hold. */
export function accountingProblems(r: LlmAccounting, maxOverpay = 0.15): string[] {
  const out: string[] = [];
  if (r.batch.paused) out.push('the batch paused');
  if (r.otherRefused > 0)
    out.push(`${r.otherRefused} turns of ordinary seeds were refused for context length: the bench's limit is too low`);
  if (r.student.paid > (1 + maxOverpay) * r.student.kept)
    out.push(`student paid ${r.student.paid} > ${1 + maxOverpay} x kept ${r.student.kept}`);
  if (r.longSeed.length === 0 || r.longSeed.some((t) => t.status !== 'invalid' || !/maximum context length/.test(t.reason ?? ''))) {
    out.push(`the long seed's turns are not all invalid with the context-length reason: ${JSON.stringify(r.longSeed)}`);
  }
  return out;
}

async function main(): Promise<void> {
  const o = {
    seeds: arg('seeds', 6),
    turns: arg('turns', 2),
    attempts: arg('attempts', 16),
    rate429: arg('rate429', 0.3),
    seed: arg('seed', 1),
  };
  const r = await runLlmAccounting({ ...o, log: (m) => console.log(m) });
  const ratio = (p: number, k: number) => (k ? `${(p / k).toFixed(3)}x` : 'n/a');
  console.log(
    `student samples: paid ${r.student.paid}, kept ${r.student.kept} (${ratio(r.student.paid, r.student.kept)}); requests by status ${JSON.stringify(r.student.requests)}`,
  );
  console.log(
    `teacher samples: paid ${r.teacher.paid}, kept ${r.teacher.kept} (${ratio(r.teacher.paid, r.teacher.kept)}); requests by status ${JSON.stringify(r.teacher.requests)}`,
  );
  console.log(`batch: ${JSON.stringify(r.batch)}; problems failed for want of samples: ${r.problemsFailed}`);
  console.log(`long seed turns: ${r.longSeed.map((t) => `${t.status} (${(t.reason ?? '').slice(0, 120)})`).join('; ')}`);
  console.log(`wall ${r.wallS.toFixed(1)} s`);
  const bad = accountingProblems(r);
  for (const b of bad) console.log(`FAIL: ${b}`);
  if (bad.length === 0) console.log("OK: paid within 15% of kept, the batch ran on, the long seed's turns invalid with the reason");
  process.exitCode = bad.length ? 1 : 0;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
