/**
 * The batch workflow's bounds, measured on the real stack for `npm run bench:scale` (issue 10,
 * must-have 10): what one batch costs in Temporal history and payloads, a cancel with a full large
 * window open, and a paused batch that reconciles as often as it would in 30 days.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { loadConfig } from '../../workers/config/load-config';
import { ALL_QUEUES } from '../../workers/start-workers';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { batchWorkflowId, cancelUpdate, progressQuery } from '../../workflows/contracts';
import { batchUpdate } from '../lib/control';
import { startBatch } from '../lib/start-batch';
import { createSimServer, type SimOptions } from '../sim';
import { devServer, freshDb } from './bench-stack';

const EventType = temporal.api.enums.v1.EventType;
/** Events that Temporal Cloud bills as an action (a history-based count: heartbeats and activity retries are not in history). */
const ACTION_EVENTS = new Set<number>([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
]);

const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

export interface HistoryFigures {
  runs: number;
  events: number;
  actions: number;
  /** The largest run: events and encoded bytes. */
  maxRunEvents: number;
  maxRunBytes: number;
  /** The largest single payload list (an input, a result, a signal's args) in any event. */
  maxPayloadBytes: number;
}

/** Walks an event for payload lists (`payloads: [{ metadata, data }]`) and returns the largest one's size. */
function largestPayload(x: unknown): number {
  if (!x || typeof x !== 'object' || x instanceof Uint8Array) return 0;
  let max = 0;
  const o = x as Record<string, unknown>;
  if (Array.isArray(o.payloads)) {
    let sum = 0;
    for (const p of o.payloads as { data?: Uint8Array | null }[]) sum += p?.data?.length ?? 0;
    max = sum;
  }
  for (const v of Object.values(o)) if (v && typeof v === 'object') max = Math.max(max, largestPayload(v));
  return max;
}

/** Every run of one workflow id: events, actions, the largest run and the largest payload. */
export async function historyFigures(client: Client, workflowId: string): Promise<HistoryFigures> {
  const f: HistoryFigures = { runs: 0, events: 0, actions: 0, maxRunEvents: 0, maxRunBytes: 0, maxPayloadBytes: 0 };
  for await (const ex of client.workflow.list({ query: `WorkflowId = ${JSON.stringify(workflowId)}` })) {
    const h = await client.workflow.getHandle(ex.workflowId, ex.runId).fetchHistory();
    const events = h.events ?? [];
    f.runs++;
    f.events += events.length;
    f.maxRunEvents = Math.max(f.maxRunEvents, events.length);
    f.maxRunBytes = Math.max(f.maxRunBytes, temporal.api.history.v1.History.encode(h).finish().length);
    for (const e of events) {
      if (ACTION_EVENTS.has(e.eventType ?? 0)) f.actions++;
      f.maxPayloadBytes = Math.max(f.maxPayloadBytes, largestPayload(e));
    }
  }
  return f;
}

export function formatHistory(f: HistoryFigures): string {
  return `${f.runs} runs, ${f.events} events, ${f.actions} actions; largest run ${f.maxRunEvents} events / ${kib(f.maxRunBytes)}; largest payload ${kib(f.maxPayloadBytes)}`;
}

/** A dev server, a fresh database, the simulator and one `cairn worker` process per queue. */
export async function startScaleStack(tag: string, sim: SimOptions) {
  const env = await devServer();
  const d = await freshDb(tag);
  const server = await createSimServer({ port: 0, seed: 2, ...sim });
  const childEnv = {
    ...process.env,
    DATABASE_URL: d.url,
    TEMPORAL_ADDRESS: env.address,
    CAIRN_TEACHER_BASE_URL: server.url,
    CAIRN_STUDENT_BASE_URL: server.url,
    CAIRN_TEACHER_CONCURRENCY: '16',
    CAIRN_STUDENT_CONCURRENCY: '16',
  };
  const workers: Record<string, ChildProcess> = {};
  for (const q of ALL_QUEUES) {
    workers[q] = spawn(process.execPath, [path.join(__dirname, '..', 'cairn.js'), 'worker', '--queue', q], {
      env: childEnv,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  await new Promise((r) => setTimeout(r, 8000)); // workers bundle, connect, poll
  return {
    env,
    d,
    workers,
    cfg: loadConfig(childEnv),
    async stop() {
      for (const c of Object.values(workers)) c.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 3000));
      await server.close();
      await d.drop();
      await env.teardown();
    },
  };
}

async function until(what: string, fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return; // a query before the worker polls times out: ask again
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
}

/**
 * Cancel with `open` seeds open: the teacher answers after 10 minutes, so every seed of the window
 * is open when the cancel comes. Time until the batch workflow closed and until every seed is
 * recorded failed 'cancelled' in Postgres.
 */
export async function cancelFigures(seedFile: string, open: number): Promise<void> {
  console.log(`3. cancel with ${open} seeds open (teacher held 10 minutes, window ${open})`);
  const s = await startScaleStack('cancel', { teacherLatencyMs: 600_000 });
  try {
    await startBatch(s.d.db, s.env.client, s.cfg, {
      seedsFile: seedFile,
      batchId: 'cancel',
      turns: 1,
      attempts: 2,
      env: 'induction',
      window: open,
    });
    const h = s.env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('cancel'));
    const t00 = Date.now();
    await until(`${open} seeds open`, async () => (await h.query(progressQuery)).open >= open, 30 * 60_000);
    console.log(`   ${open} open after ${((Date.now() - t00) / 1000).toFixed(0)} s`);
    const t0 = Date.now();
    await batchUpdate(h, cancelUpdate);
    const tUpdate = (Date.now() - t0) / 1000;
    const r = await h.result();
    const tClosed = (Date.now() - t0) / 1000;
    const recorded = async () =>
      (
        (
          await s.d.db.execute(
            sql`select count(*)::int n from seeds where batch_id = 'cancel' and status = 'failed' and outcome = 'cancelled'`,
          )
        ).rows[0] as { n: number }
      ).n;
    await until('every cancelled seed recorded', async () => (await recorded()) >= r.started, 30 * 60_000);
    const tRecorded = (Date.now() - t0) / 1000;
    // A seed records itself cancelled, then tells the batch and closes: wait (up to 2 minutes) until every one has closed.
    const stillRunning = async () => {
      let n = 0;
      for await (const _ of s.env.client.workflow.list({ query: `BatchId = "cancel" AND ExecutionStatus = "Running"` })) n++;
      return n;
    };
    let running = await stillRunning();
    for (const end = Date.now() + 120_000; running > 0 && Date.now() < end; running = await stillRunning())
      await new Promise((r) => setTimeout(r, 500));
    const tAllClosed = (Date.now() - t0) / 1000;
    console.log(
      `   cancel update ${tUpdate.toFixed(1)} s; batch workflow closed after ${tClosed.toFixed(1)} s; all ${r.started} seeds recorded 'cancelled' after ${tRecorded.toFixed(1)} s; every workflow closed after ${tAllClosed.toFixed(1)} s; ${running} workflows still running`,
    );
    console.log(`   batch workflow: ${formatHistory(await historyFigures(s.env.client, batchWorkflowId('cancel')))}`);
  } finally {
    await s.stop();
  }
}

/**
 * A paused batch reconciling `reconciles` times (30 days at the default 2 minutes = 21,600), with
 * its reconcile interval shortened to `every`: the largest history per run stays bounded.
 */
export async function pausedFigures(seedFile: string, reconciles: number, every: string, maxSeconds = 3 * 3600): Promise<void> {
  console.log(`4. paused batch: ${reconciles} reconciles (30 days at 2 minutes) at one per ${every}`);
  const s = await startScaleStack('paused', {});
  try {
    await startBatch(s.d.db, s.env.client, s.cfg, {
      seedsFile: seedFile,
      batchId: 'paused',
      turns: 1,
      attempts: 2,
      env: 'induction',
      window: 2000,
      paused: true,
      reconcileEvery: every,
    });
    const h = s.env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('paused'));
    const t0 = Date.now();
    let last = 0;
    // A loaded machine may not get there: stop at --paused-max-s and report what it reached.
    await until(
      `${reconciles} reconciles`,
      async () => {
        const p = await h.query(progressQuery);
        const n = p.reconciles ?? 0;
        if (n - last >= 1000) {
          last = n;
          console.log(`   ${n} reconciles after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        }
        return n >= reconciles || Date.now() - t0 > maxSeconds * 1000;
      },
      (maxSeconds + 600) * 1000,
    );
    const p = await h.query(progressQuery);
    console.log(
      `   ${p.reconciles} reconciles in ${((Date.now() - t0) / 1000).toFixed(0)} s, still paused: ${p.paused}, started ${p.started}`,
    );
    await batchUpdate(h, cancelUpdate);
    await h.result();
    console.log(`   batch workflow: ${formatHistory(await historyFigures(s.env.client, batchWorkflowId('paused')))}`);
  } finally {
    await s.stop();
  }
}
