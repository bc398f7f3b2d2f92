/**
 * The composition root: builds clients once (pg pool, OpenAI clients, sandbox) and one Temporal
 * Worker per task queue, each with its own concurrency limit.
 */
import type { Client } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { activitiesFor } from '../activities';
import { createLlmClient } from '../activities/llm/llm-client';
import { createBatchLlmClient } from '../activities/llm/batch-api/batch-client';
import { startBatchCollector, type Collector } from '../activities/llm/batch-api/batch-collector';
import { createSandbox } from '../activities/sandbox';
import { benchmarkLoader } from '../activities/decontam/humaneval';
import type { Sandbox, SandboxInfo } from '../activities/sandbox/contract';
import { setSeedCounter } from '../activities/cairn-metrics';
import { createDb, migrateDb } from '../db/client';
import { seedsByStatus } from '../db/queries/batches';
import { TASK_QUEUES, type QueueName } from '../workflows/contracts';
import type { Config } from './config/load-config';
import { connectClient, connectWorker } from './config/connect-temporal';

export { ALL_QUEUES } from '../workflows/contracts';

export interface WorkerSet {
  /** Resolves when every worker has stopped (after shutdown()). */
  run(): Promise<void>;
  /** Set when this host's sandbox failed its self-check and the grader worker stopped polling: why. */
  sandboxBroken(): string | null;
  shutdown(): void;
  close(): Promise<void>;
}

export interface StartWorkersOptions {
  cfg: Readonly<Config>;
  databaseUrl: string;
  queues: readonly QueueName[];
  /** Tests pass the test environment's connection, client and namespace. */
  connection?: NativeConnection;
  client?: Client;
  namespace?: string;
  /** Pre-bundled workflow code (tests bundle once per file). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Task queue names override (tests use a queue set per test). */
  taskQueues?: Partial<Record<QueueName, string>>;
  log?: (msg: string) => void;
}

/**
 * Worker Versioning, when on: every worker of this process is one build of the deployment. Seed
 * workflows are pinned to the build they started on (they finish on the code they began with); the
 * batch workflow upgrades to the current build at its next task (its changes are behind patched()).
 * The per-workflow behaviour is declared in the workflow code (setWorkflowOptions); the default
 * here only covers workflows that declare none.
 */
export function deploymentOptions(cfg: Readonly<Config>): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  if (!cfg.versioning.enabled) return {};
  return {
    workerDeploymentOptions: {
      useWorkerVersioning: true,
      version: { deploymentName: cfg.versioning.deploymentName, buildId: cfg.versioning.buildId },
      defaultVersioningBehavior: 'PINNED',
    },
  };
}

export async function startWorkers(opts: StartWorkersOptions): Promise<WorkerSet> {
  const { cfg, queues } = opts;
  const log = opts.log ?? (() => undefined);
  const { db, pool } = createDb(opts.databaseUrl, { max: cfg.pgPoolMax });
  const namespace = opts.namespace ?? cfg.temporal.namespace;
  const tq = (q: QueueName) => opts.taskQueues?.[q] ?? TASK_QUEUES[q];
  let sandbox: (Sandbox & { info: SandboxInfo }) | undefined;
  let ownConnection: NativeConnection | undefined;
  let ownClient: Client | undefined;
  const workers: Worker[] = [];
  let graderWorker: Worker | undefined;
  let sandboxBroken: string | null = null;
  // A broken sandbox (bwrap gone, the probe failing) stops this host's grading: no verdict is
  // recorded here, the in-flight tasks fail as infrastructure errors and are retried elsewhere.
  const onSandboxBroken = (reason: string): void => {
    sandboxBroken = reason;
    log(
      `grader: this host's sandbox is broken: ${reason}. Stopped taking grading tasks (other queues go on); fix the host and restart the worker.`,
    );
    if (graderWorker?.getState() === 'RUNNING') graderWorker.shutdown();
  };
  // CAIRN_<ROLE>_API=batch: that role's client queues requests, and a collector (one at a time fleet-wide) sends them as batch files.
  const batchRoles = (['teacher', 'student'] as const).filter((r) => queues.includes(r) && cfg[r].api === 'batch');
  const collectors: Collector[] = [];
  try {
    await migrateDb(db);
    // The sandbox first: it is what most often refuses to start (host set-up), and failing before
    // any Worker exists leaves nothing holding the connection.
    if (queues.includes('grader')) {
      sandbox = await createSandbox({
        stateDir: cfg.sandbox.stateDir,
        slots: cfg.sandbox.slots,
        uidBase: cfg.sandbox.uidBase,
        memoryMb: cfg.sandbox.memoryMb,
        log,
      });
    }
    const connection = opts.connection ?? (ownConnection = await connectWorker(cfg));
    // The reconcile asks Temporal which seeds closed without reporting (terminated, timed out).
    // The batch API collector signals the seeds whose answers came.
    if ((queues.includes('orchestration') || batchRoles.length > 0) && !opts.client) ownClient = await connectClient(cfg);
    const temporal = opts.client ?? ownClient;
    for (const role of batchRoles) {
      if (!temporal) throw new Error('the batch API collector needs a Temporal client');
      collectors.push(startBatchCollector({ db, pool, role, ep: cfg[role], temporal, log }));
      log(
        `${role} LLM calls go through the provider batch API (${cfg[role].baseURL}: files of up to ${cfg[role].batch.maxRequests} requests / ${cfg[role].batch.maxBytes} bytes)`,
      );
    }
    for (const q of queues) {
      // SIGTERM lets in-flight activities finish (their LLM answers are cached) before they are cancelled.
      const base = { connection, namespace, taskQueue: tq(q), shutdownGraceTime: cfg.shutdownGraceMs, ...deploymentOptions(cfg) };
      if (q === 'orchestration') {
        workers.push(
          await Worker.create({
            ...base,
            ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
            activities: activitiesFor(q, { db, temporal, prices: cfg.prices }),
            maxConcurrentWorkflowTaskExecutions: 40,
          }),
        );
      } else if (q === 'teacher' || q === 'student') {
        const ep = cfg[q];
        workers.push(
          await Worker.create({
            ...base,
            activities: activitiesFor(q, { db, [q]: ep.api === 'batch' ? createBatchLlmClient(db, q, ep) : createLlmClient(db, q, ep) }),
            maxConcurrentActivityTaskExecutions: ep.concurrency,
          }),
        );
      } else if (sandbox) {
        const sandboxDetails = {
          memoryMb: cfg.sandbox.memoryMb,
          privilege: sandbox.info.privilege,
          cgroupMode: sandbox.info.cgroupMode,
          python: sandbox.info.python,
        };
        graderWorker = await Worker.create({
          ...base,
          activities: activitiesFor(q, {
            db,
            sandbox,
            wallFactor: cfg.sandbox.wallFactor,
            sandboxDetails,
            benchmarks: benchmarkLoader(cfg.toolsDir),
            onSandboxBroken,
          }),
          // Each activity runs several sandboxes through the sandbox's own slot queue.
          maxConcurrentActivityTaskExecutions: Math.max(2, cfg.sandbox.slots * 2),
        });
        workers.push(graderWorker);
      }
      log(
        `worker polling ${tq(q)}${cfg.versioning.enabled ? ` as ${cfg.versioning.deploymentName}.${cfg.versioning.buildId} (Worker Versioning)` : ''}`,
      );
    }
    // Seeds by status for the metrics endpoint: counted by the processes that run the orchestration queue.
    if (queues.includes('orchestration')) setSeedCounter(() => seedsByStatus(db));
  } catch (err) {
    // Nothing may keep a failed start alive (the pool, the connections, the sandbox's uid lease):
    // `cairn worker` retries (Temporal or Postgres unreachable) or exits, and `cairn dev` sees it.
    await Promise.all(collectors.map((c) => c.stop()));
    await sandbox?.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await ownClient?.connection.close().catch(() => undefined);
    await ownConnection?.close().catch(() => undefined);
    throw err;
  }

  return {
    run: async () => {
      await Promise.all(workers.map((w) => w.run()));
    },
    sandboxBroken: () => sandboxBroken,
    shutdown: () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
    close: async () => {
      await Promise.all(collectors.map((c) => c.stop()));
      if (queues.includes('orchestration')) setSeedCounter(undefined);
      await sandbox?.close();
      await pool.end();
      await ownClient?.connection.close();
      await ownConnection?.close();
    },
  };
}
