/**
 * `npm run bench:pipeline`: the same seeds and simulator run (a) through Temporal (BatchWorkflow,
 * SeedWorkflows, real workers) and (b) by a plain in-process loop calling the same activity
 * functions with the same concurrency; prints seeds/s and problems/s of each and a/b, side by side
 * in one run. Then, with simulated LLM latency, how busy the LLM slots were through Temporal.
 *
 * Flags: --seeds N (24) --turns T (2) --attempts M (4) --window W (16) --teacher-ms (2000)
 *        --student-ms (500) --concurrency C (4, per role) --latency-seeds N (64) --latency-window W (32)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { activitiesFor } from '../../activities';
import { createLlmClient } from '../../activities/llm/llm-client';
import { createSandbox } from '../../activities/sandbox';
import { listSeedIds, upsertBatch } from '../../db/queries/batches';
import { loadConfig } from '../../workers/config/load-config';
import { ALL_QUEUES, startWorkers } from '../../workers/start-workers';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { nextInstruction, type PreviousTurn } from '../../workflows/method/progression';
import { batchSettingsFrom, batchWorkflowId } from '../../workflows/contracts';
import { startBatch } from '../lib/start-batch';
import { loadSeeds } from '../lib/load-seeds';
import { cutSeeds, stdlibDir, writeSeedFile } from '../lib/seed-file';
import { createSimServer } from '../sim';
import { arg, devServer, freshDb, pool } from './bench-stack';

interface Leg {
  name: string;
  ms: number;
  seeds: number;
  problems: number;
  busy?: Record<string, number>;
}
interface Opts {
  seedsFile: string;
  turns: number;
  attempts: number;
  window: number;
  concurrency: number;
  teacherMs: number;
  studentMs: number;
}

function cfgFor(simUrl: string, url: string, o: Opts) {
  return loadConfig({
    ...process.env,
    CAIRN_TEACHER_BASE_URL: simUrl,
    CAIRN_STUDENT_BASE_URL: simUrl,
    DATABASE_URL: url,
    CAIRN_TEACHER_CONCURRENCY: String(o.concurrency),
    CAIRN_STUDENT_CONCURRENCY: String(o.concurrency),
  });
}

async function count(db: Awaited<ReturnType<typeof freshDb>>['db'], table: string): Promise<number> {
  return Number((await db.execute(sql.raw(`select count(*) n from ${table}`))).rows[0]?.n);
}

/** LLM slot utilisation per role: the sum of call latencies over (slots x wall time). */
async function busy(db: Awaited<ReturnType<typeof freshDb>>['db'], slots: number, wallMs: number): Promise<Record<string, number>> {
  const rows = (await db.execute(sql.raw('select role, sum(latency_ms)::float8 s from llm_calls group by role'))).rows as {
    role: string;
    s: number;
  }[];
  return Object.fromEntries(rows.map((r) => [r.role, r.s / (slots * wallMs)]));
}

async function viaTemporal(
  env: TestWorkflowEnvironment,
  bundle: Awaited<ReturnType<typeof bundleWorkflowCode>>,
  o: Opts,
  name: string,
): Promise<Leg> {
  const d = await freshDb(`t${name.length}`);
  const sim = await createSimServer({ port: 0, seed: 1, teacherLatencyMs: o.teacherMs, studentLatencyMs: o.studentMs });
  const cfg = cfgFor(sim.url, d.url, o);
  const workers = await startWorkers({
    cfg,
    databaseUrl: d.url,
    queues: ALL_QUEUES,
    connection: env.nativeConnection,
    namespace: env.namespace,
    workflowBundle: bundle,
  });
  const running = workers.run();
  try {
    const batchId = `bench-${name.replace(/\W/g, '')}`;
    const t0 = Date.now();
    await startBatch(d.db, env.client, cfg, {
      seedsFile: o.seedsFile,
      batchId,
      turns: o.turns,
      attempts: o.attempts,
      env: 'induction',
      window: o.window,
    });
    const r = await env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId(batchId)).result();
    const ms = Date.now() - t0;
    return { name, ms, seeds: r.finished, problems: await count(d.db, 'problems'), busy: await busy(d.db, o.concurrency, ms) };
  } finally {
    workers.shutdown();
    await running;
    await workers.close();
    await sim.close();
    await d.drop();
  }
}

async function viaLoop(o: Opts): Promise<Leg> {
  const d = await freshDb('loop');
  const sim = await createSimServer({ port: 0, seed: 1, teacherLatencyMs: o.teacherMs, studentLatencyMs: o.studentMs });
  const cfg = cfgFor(sim.url, d.url, o);
  const sandbox = await createSandbox({
    stateDir: cfg.sandbox.stateDir,
    slots: cfg.sandbox.slots,
    uidBase: cfg.sandbox.uidBase,
    memoryMb: cfg.sandbox.memoryMb,
  });
  try {
    const teacher = activitiesFor('teacher', { db: d.db, teacher: createLlmClient(d.db, 'teacher', cfg.teacher) });
    const student = activitiesFor('student', { db: d.db, student: createLlmClient(d.db, 'student', cfg.student) });
    const grader = activitiesFor('grader', { db: d.db, sandbox, wallFactor: cfg.sandbox.wallFactor });
    const books = activitiesFor('orchestration', { db: d.db });
    const batchId = 'bench-loop';
    const t0 = Date.now();
    await upsertBatch(d.db, batchId, batchSettingsFrom({ seedFile: o.seedsFile, turns: o.turns, attempts: o.attempts }));
    await loadSeeds(d.db, batchId, o.seedsFile, { skipBad: false });
    // The same steps as SeedWorkflow, minus Temporal (the baseline the orchestration overhead is measured against).
    await pool(await listSeedIds(d.db, batchId), o.window, async (seedId) => {
      await books.markSeed({ batchId, seedId, status: 'running' });
      let prev: (PreviousTurn & { problemId: number }) | undefined;
      for (let turn = 1; turn <= o.turns; turn++) {
        const p = await teacher.proposeProblem({
          batchId,
          seedId,
          env: 'induction',
          turn,
          instruction: nextInstruction(prev),
          prevProblemId: prev?.problemId ?? null,
        });
        const valid = p.parsed && (await grader.validateProblem({ problemId: p.problemId })).valid;
        if (!valid) {
          prev = { valid: false, problemId: p.problemId };
          continue;
        }
        await student.attemptProblem({ problemId: p.problemId, attempts: o.attempts });
        const g = await grader.gradeAttempts({ problemId: p.problemId });
        prev = { valid: true, passRate: g.passRate, problemId: p.problemId };
      }
      await books.markSeed({ batchId, seedId, status: 'done' });
    });
    const ms = Date.now() - t0;
    return { name: '(b) plain loop', ms, seeds: (await listSeedIds(d.db, batchId)).length, problems: await count(d.db, 'problems') };
  } finally {
    await sandbox.close();
    await sim.close();
    await d.drop();
  }
}

function line(l: Leg): string {
  const s = l.ms / 1000;
  return (
    `${l.name.padEnd(24)} ${String(l.seeds).padStart(5)} seeds ${String(l.problems).padStart(5)} problems in ${s.toFixed(1).padStart(6)} s  ` +
    `${(l.seeds / s).toFixed(2).padStart(6)} seeds/s ${(l.problems / s).toFixed(2).padStart(6)} problems/s`
  );
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'));
  const o: Opts = {
    seedsFile: path.join(tmp, 'seeds.jsonl'),
    turns: arg('turns', 2),
    attempts: arg('attempts', 4),
    window: arg('window', 16),
    concurrency: arg('concurrency', 4),
    teacherMs: 0,
    studentMs: 0,
  };
  writeSeedFile(o.seedsFile, cutSeeds({ from: stdlibDir(), count: arg('seeds', 24), minLines: 25, maxLines: 50, ext: '.py', seed: 11 }));
  console.log(
    `bench:pipeline on ${os.cpus().length} cores: ${arg('seeds', 24)} seeds x ${o.turns} turns, M=${o.attempts}, window ${o.window}, simulator with zero latency`,
  );
  const env = await devServer();
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} },
  });
  try {
    const legs: Leg[] = [];
    // Alternate the legs so machine noise hits both alike.
    legs.push(await viaLoop(o));
    legs.push(await viaTemporal(env, bundle, o, '(a) through Temporal'));
    const [b, a] = legs as [Leg, Leg];
    for (const l of legs) console.log(line(l));
    console.log(`ratio a/b (seeds/s): ${(a.seeds / a.ms / (b.seeds / b.ms)).toFixed(2)}  (target >= 0.7)`);

    const lat: Opts = { ...o, teacherMs: arg('teacher-ms', 2000), studentMs: arg('student-ms', 500), window: arg('latency-window', 32) };
    writeSeedFile(
      lat.seedsFile,
      cutSeeds({ from: stdlibDir(), count: arg('latency-seeds', 64), minLines: 25, maxLines: 50, ext: '.py', seed: 12 }),
    );
    console.log(
      `\nwith LLM latency: teacher ${lat.teacherMs} ms, student ${lat.studentMs} ms, ${lat.concurrency} slots per role, window ${lat.window}`,
    );
    const l = await viaTemporal(env, bundle, lat, '(a) Temporal + latency');
    console.log(line(l));
    for (const [role, u] of Object.entries(l.busy ?? {})) console.log(`  ${role} slots busy: ${(u * 100).toFixed(1)}%`);
  } finally {
    await env.teardown();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
