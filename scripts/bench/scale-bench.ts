/**
 * `npm run bench:scale`: the scale figures.
 *  1. Load a generated seed file of --load-seeds (1,000,000) seeds: seconds, seeds/s, and this
 *     process's peak RSS (run it under `/usr/bin/time -v` for the whole-process figure too).
 *  2. Run a --batch-seeds (5,000) seed batch, 1 turn, M=2, through the real stack (dev server,
 *     simulator, one worker process per queue): seeds/s, worker RSS at start and end, Temporal
 *     history events per seed, Postgres rows and bytes per seed.
 *     Also the batch workflow's runs: largest history per run (events, bytes), largest payload,
 *     Temporal actions and history events per seed.
 *  3. A cancel with --cancel-open (2,000) seeds open: time to close, every seed recorded.
 *  4. A paused batch reconciling --reconciles (21,600 = 30 days at 2 minutes) times at one per
 *     --reconcile-every (10ms): the largest history per run.
 *     --batch-max-s S stops waiting after S seconds (the figures so far), then cancels the batch.
 * Flags: --load-seeds N --batch-seeds N --window W --batch-max-s S --cancel-open N --reconciles N --reconcile-every D --paused-max-s S
 *        --skip-load --skip-batch --skip-cancel --skip-paused
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../workers/config/load-config';
import { ALL_QUEUES } from '../../workers/start-workers';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { batchWorkflowId, cancelUpdate, progressQuery, seedWorkflowId, type BatchCounts } from '../../workflows/contracts';
import { batchUpdate } from '../lib/control';
import { startBatch } from '../lib/start-batch';
import { cutSeeds, stdlibDir } from '../lib/seed-file';
import { createSimServer } from '../sim';
import { arg, devServer, freshDb } from './bench-stack';
import { cancelFigures, formatHistory, historyFigures, pausedFigures } from './scale-proof';

const flag = (n: string) => process.argv.includes(`--${n}`);
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Billed Temporal actions in a history (Temporal Cloud's table): workflow starts, activities
 * scheduled, child starts (2 each), signals (counted where received), timers, search-attribute
 * upserts, updates, local-activity markers (patch markers are free). Heartbeats and retries are not
 * in history and not counted.
 */
function actionsOf(events: readonly object[] | null | undefined): number {
  let n = 0;
  for (const e of (events ?? []) as Record<string, unknown>[]) {
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) n += 2;
    else if (
      e.workflowExecutionStartedEventAttributes ||
      e.activityTaskScheduledEventAttributes ||
      e.workflowExecutionSignaledEventAttributes ||
      e.timerStartedEventAttributes ||
      e.upsertWorkflowSearchAttributesEventAttributes ||
      e.workflowExecutionUpdateAcceptedEventAttributes
    )
      n++;
    else if (e.markerRecordedEventAttributes && (e.markerRecordedEventAttributes as { markerName?: string }).markerName !== 'core_patch')
      n++;
  }
  return n;
}

/** A big seed file: real spans from the standard library, repeated under distinct ids. */
function generate(file: string, n: number): void {
  const base = cutSeeds({ from: stdlibDir(), count: 2000, minLines: 25, maxLines: 50, ext: '.py', seed: 5 });
  const fd = fs.openSync(file, 'w');
  let buf: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = base[i % base.length];
    buf.push(JSON.stringify({ id: `g${String(i).padStart(7, '0')}`, kind: 'snippet', source: s?.source, snippet: s?.snippet }));
    if (buf.length === 10000) {
      fs.writeSync(fd, buf.join('\n') + '\n');
      buf = [];
    }
  }
  if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
  fs.closeSync(fd);
}

async function loadFigures(tmp: string): Promise<void> {
  const n = arg('load-seeds', 1_000_000);
  const file = path.join(tmp, 'seeds-load.jsonl');
  generate(file, n);
  console.log(`1. load ${n} seeds (${mb(fs.statSync(file).size)} file)`);
  const d = await freshDb('load');
  try {
    // In a child process of its own, so the peak RSS is the loader's, not the generator's.
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(__dirname, 'load-child.ts'), file, d.url], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      c.stdout.on('data', (b: Buffer) => {
        text += b.toString();
      });
      c.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`loader exited with ${code}`))));
    });
    const r = JSON.parse(out) as { inserted: number; ms: number; peakRssBytes: number };
    console.log(
      `   ${r.inserted} seeds in ${(r.ms / 1000).toFixed(1)} s: ${Math.round(r.inserted / (r.ms / 1000))} seeds/s; loader peak RSS ${mb(r.peakRssBytes)} (targets: >= 20000 seeds/s, < 300 MB)`,
    );
  } finally {
    await d.drop();
    fs.rmSync(file, { force: true });
  }
}

async function batchFigures(tmp: string): Promise<void> {
  const n = arg('batch-seeds', 20000);
  const window = arg('window', 2000);
  console.log(`2. batch of ${n} seeds, 1 turn, M=2, window ${window}, simulator with zero latency, one worker process per queue`);
  const file = path.join(tmp, 'seeds-batch.jsonl');
  generate(file, n);
  const env = await devServer();
  const d = await freshDb('batch');
  const sim = await createSimServer({ port: 0, seed: 2 });
  const childEnv = {
    ...process.env,
    DATABASE_URL: d.url,
    TEMPORAL_ADDRESS: env.address,
    CAIRN_TEACHER_BASE_URL: sim.url,
    CAIRN_STUDENT_BASE_URL: sim.url,
    CAIRN_TEACHER_CONCURRENCY: '16',
    CAIRN_STUDENT_CONCURRENCY: '16',
  };
  const workers: Record<string, ChildProcess> = {};
  try {
    for (const q of ALL_QUEUES) {
      workers[q] = spawn(process.execPath, [path.join(__dirname, '..', 'cairn.js'), 'worker', '--queue', q], {
        env: childEnv,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
    await new Promise((r) => setTimeout(r, 8000)); // workers bundle, connect, poll
    const rssStart = Object.fromEntries(Object.entries(workers).map(([q, c]) => [q, rssOf(c.pid as number)]));
    const cfg = loadConfig(childEnv);
    const t0 = Date.now();
    await startBatch(d.db, env.client, cfg, { seedsFile: file, batchId: 'scale', turns: 1, attempts: 2, env: 'induction', window });
    const h = env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('scale'));
    const ticker = setInterval(() => {
      h.query('progress').then(
        (p) => console.log(`   ${JSON.stringify(p)}`),
        () => undefined,
      );
    }, 30_000);
    // --batch-max-s: a run longer than the session can afford stops there; the figures so far are
    // printed, then the batch is cancelled with its window full (its close timed, like leg 3).
    const maxS = arg('batch-max-s', 0);
    let deadline: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      h.result().then((r) => ({ r, stopped: false })),
      ...(maxS > 0
        ? [
            new Promise<{ r: BatchCounts; stopped: boolean }>((res) => {
              deadline = setTimeout(() => void h.query(progressQuery).then((r) => res({ r, stopped: true })), maxS * 1000);
            }),
          ]
        : []),
    ]).finally(() => {
      clearInterval(ticker);
      clearTimeout(deadline);
    });
    const r = ended.r;
    const s = (Date.now() - t0) / 1000;
    const rssEnd = Object.fromEntries(Object.entries(workers).map(([q, c]) => [q, rssOf(c.pid as number)]));
    console.log(
      `   ${r.finished} done, ${r.failed} failed in ${s.toFixed(0)} s: ${(r.finished / s).toFixed(2)} seeds/s` +
        (ended.stopped ? ` (stopped at --batch-max-s ${maxS}, ${r.started} of ${n} started)` : ''),
    );
    for (const q of ALL_QUEUES) console.log(`   worker ${q.padEnd(13)} RSS ${mb(rssStart[q] ?? 0)} at start, ${mb(rssEnd[q] ?? 0)} at end`);
    // History events per seed: every seed workflow of a sample, plus the batch workflow's runs spread over all seeds.
    let seedEvents = 0;
    let seedActions = 0;
    const sample = Math.min(20, n);
    for (let i = 0; i < sample; i++) {
      const hist = await env.client.workflow.getHandle(seedWorkflowId('scale', `g${String(i).padStart(7, '0')}`)).fetchHistory();
      seedEvents += hist.events?.length ?? 0;
      seedActions += actionsOf(hist.events);
    }
    let batchEvents = 0;
    let batchActions = 0;
    let runs = 0;
    for await (const ex of env.client.workflow.list({ query: `WorkflowId = "${batchWorkflowId('scale')}"` })) {
      runs++;
      const events = (await env.client.workflow.getHandle(ex.workflowId, ex.runId).fetchHistory()).events;
      batchEvents += events?.length ?? 0;
      batchActions += actionsOf(events);
    }
    console.log(
      `   Temporal actions per seed-turn (1 turn): ${(seedActions / sample + batchActions / n).toFixed(1)} ` +
        `(seed workflow ${(seedActions / sample).toFixed(1)}, batch workflow ${(batchActions / n).toFixed(1)} per seed; billable history events, heartbeats not counted)`,
    );
    console.log(
      `   Temporal history: ${(seedEvents / sample).toFixed(0)} events per seed workflow; batch workflow ${batchEvents} events over ${runs} runs (${(batchEvents / n).toFixed(1)} per seed)`,
    );
    const counted = ended.stopped ? Math.max(1, r.finished + r.failed) : n;
    await batchWorkflowFigures(env.client, counted, sample);
    if (ended.stopped) {
      const open = (await h.query(progressQuery)).open;
      const c0 = Date.now();
      await batchUpdate(h, cancelUpdate);
      await h.result();
      console.log(`   cancel with ${open} open: batch workflow closed after ${((Date.now() - c0) / 1000).toFixed(1)} s`);
      console.log(`   batch workflow after the cancel: ${formatHistory(await historyFigures(env.client, batchWorkflowId('scale')))}`);
    }
    const tables = ['batches', 'seeds', 'problems', 'attempts', 'grades', 'llm_calls'];
    let rows = 0;
    let bytes = 0;
    for (const t of tables) {
      const q = (await d.db.execute(sql.raw(`select count(*)::int n, pg_total_relation_size('${t}')::float8 b from ${t}`))).rows[0] as {
        n: number;
        b: number;
      };
      rows += q.n;
      bytes += q.b;
      console.log(`   ${t.padEnd(10)} ${String(q.n).padStart(8)} rows ${mb(q.b).padStart(8)}`);
    }
    const seeds = ended.stopped ? Math.max(1, r.finished + r.failed) : n;
    console.log(
      `   Postgres: ${(rows / seeds).toFixed(1)} rows and ${(bytes / seeds / 1024).toFixed(1)} KiB per ${ended.stopped ? 'closed ' : ''}seed`,
    );
  } finally {
    for (const c of Object.values(workers)) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 3000));
    await sim.close();
    await d.drop();
    await env.teardown();
  }
}

/** The batch workflow's bounds and Temporal's cost per seed (the seed workflows of the first `sample` seeds, plus the batch's share). */
async function batchWorkflowFigures(client: Client, n: number, sample: number): Promise<void> {
  const b = await historyFigures(client, batchWorkflowId('scale'));
  console.log(`   batch workflow: ${formatHistory(b)}`);
  let events = 0;
  let actions = 0;
  for (let i = 0; i < sample; i++) {
    const f = await historyFigures(client, seedWorkflowId('scale', `g${String(i).padStart(7, '0')}`));
    events += f.events;
    actions += f.actions;
  }
  console.log(
    `   per seed: ${(events / sample + b.events / n).toFixed(1)} history events, ${(actions / sample + b.actions / n).toFixed(1)} Temporal actions (seed workflow + its share of the batch workflow)`,
  );
}

async function proofFigures(tmp: string): Promise<void> {
  const open = arg('cancel-open', 2000);
  const file = path.join(tmp, 'seeds-proof.jsonl');
  generate(file, open);
  if (!flag('skip-cancel')) await cancelFigures(file, open);
  const i = process.argv.indexOf('--reconcile-every');
  if (!flag('skip-paused'))
    await pausedFigures(file, arg('reconciles', 21_600), i >= 0 ? (process.argv[i + 1] as string) : '10ms', arg('paused-max-s', 3 * 3600));
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-scale-'));
  try {
    if (!flag('skip-load')) await loadFigures(tmp);
    if (!flag('skip-batch')) await batchFigures(tmp);
    await proofFigures(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
