/**
 * A worker process started with CAIRN_METRICS_PORT serves Prometheus metrics: Temporal's runtime
 * metrics and Cairn's own on one port, and Cairn's counters move as a batch runs through it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { cairnRegistry } from '../../activities/cairn-metrics';
import { startBatch, waitForBatch, writeSeedFile } from '../../scripts/lib';
import { loadConfig } from '../../workers/config/load-config';
import { startWorkers, type WorkerSet } from '../../workers/start-workers';
import { createTestDb, type TestDb } from '../helpers/db';
import { startTestSim } from '../helpers/stack';
import { startTestEnv, workflowBundle } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-metrics-'));
let env: TestWorkflowEnvironment;
let tdb: TestDb;
let sim: Awaited<ReturnType<typeof startTestSim>>;
let orchestration: WorkerSet | undefined;
let running: Promise<void> = Promise.resolve();
let child: ChildProcess | undefined;

beforeAll(async () => {
  [env, tdb, sim] = await Promise.all([startTestEnv(), createTestDb('metrics'), startTestSim({ port: 0, seed: 4 })]);
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  orchestration?.shutdown();
  await running;
  await orchestration?.close();
  await sim?.close();
  await tdb?.drop();
  await env?.teardown();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** `name{labels} value` lines of a Prometheus text exposition, summed per metric name + label filter. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const l = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) continue;
    seen = true;
    sum += Number(m[3]);
  }
  return seen ? sum : NaN;
}

async function scrape(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(r.status).toBe(200);
  return r.text();
}

test('one port serves temporal_* and cairn_* metrics; LLM, verdict and sandbox counters move with a batch', async () => {
  const childEnv = {
    ...process.env,
    CAIRN_TEACHER_BASE_URL: sim.url,
    CAIRN_STUDENT_BASE_URL: sim.url,
    DATABASE_URL: tdb.url,
    TEMPORAL_ADDRESS: env.address,
    CAIRN_SHUTDOWN_GRACE_MS: '2000',
    CAIRN_METRICS_PORT: '0',
  };
  // The activity queues in a worker process with the endpoint; the workflows in this process (bundled once, cached).
  child = spawn(process.execPath, [path.join(ROOT, 'scripts/cairn.js'), 'worker', '--queue', 'teacher,student,grader'], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const cfg = loadConfig(childEnv);
  orchestration = await startWorkers({
    cfg,
    databaseUrl: tdb.url,
    queues: ['orchestration'],
    connection: env.nativeConnection,
    client: env.client,
    namespace: env.namespace,
    workflowBundle: await workflowBundle(),
  });
  running = orchestration.run();
  for (let i = 0; i < 600 && !/worker polling cairn-grader/.test(out) && child.exitCode === null; i++)
    await new Promise((r) => setTimeout(r, 100));
  const port = Number(/metrics on http:\/\/0\.0\.0\.0:(\d+)\/metrics/.exec(out)?.[1]);
  expect({ port, out }).toEqual({ port: expect.any(Number), out: expect.stringMatching(/worker polling cairn-grader/) });

  const before = await scrape(port);
  // Temporal's runtime metrics (from core) and Cairn's, on the one port.
  expect(before).toMatch(/^temporal_\w+/m);
  for (const name of [
    'cairn_llm_requests_total',
    'cairn_llm_samples_paid_total',
    'cairn_llm_cache_hits_total',
    'cairn_llm_tokens_total',
    'cairn_llm_rate_limited_total',
    'cairn_verdicts_total',
    'cairn_sandbox_cpu_ms_total',
    'process_resident_memory_bytes',
  ])
    expect(before).toContain(`# TYPE ${name}`);

  const file = path.join(tmp, 'seeds.jsonl');
  writeSeedFile(
    file,
    ['a', 'b'].map((id, i) => ({ id, kind: 'snippet', source: null, snippet: `def f${i}(xs):\n    return [x * ${i + 2} for x in xs]` })),
  );
  await startBatch(tdb.db, env.client, cfg, { seedsFile: file, batchId: 'metrics', turns: 1, attempts: 2, window: 2 });
  expect(await waitForBatch(env.client, 'metrics')).toMatchObject({ finished: 2, failed: 0 });

  const after = await scrape(port);
  expect(value(after, 'cairn_llm_requests_total', { role: 'teacher', outcome: 'ok' })).toBeGreaterThanOrEqual(2);
  expect(value(after, 'cairn_llm_samples_paid_total', { role: 'student' })).toBeGreaterThanOrEqual(1);
  expect(value(after, 'cairn_llm_tokens_total', { role: 'teacher', kind: 'completion' })).toBeGreaterThan(0);
  // Every valid problem's M = 2 attempts got a verdict.
  const valid = value(after, 'cairn_problems_validated_total', { result: 'valid' });
  expect(valid).toBeGreaterThanOrEqual(1);
  expect(value(after, 'cairn_verdicts_total')).toBe(2 * valid);
  expect(value(after, 'cairn_sandbox_runs_total', { result: 'ok' })).toBeGreaterThanOrEqual(2);
  expect(value(after, 'cairn_sandbox_cpu_ms_total')).toBeGreaterThan(0);
  // Temporal's counters moved too: the worker completed activity tasks.
  expect(
    value(after, 'temporal_activity_execution_latency_count') || value(after, 'temporal_activity_task_received_total'),
  ).toBeGreaterThan(0);
  // Seeds by status: counted (from Postgres) by the process that runs the orchestration queue.
  const seeds = (await cairnRegistry.getSingleMetric('cairn_seeds')?.get())?.values ?? [];
  expect(seeds.find((v) => v.labels.status === 'done')?.value).toBe(2);

  child.kill('SIGTERM');
  await new Promise((r) => child?.once('exit', r));
}, 180_000);
