/**
 * The composition root: builds clients once (pg pool, OpenAI clients, sandbox) and one Temporal
 * Worker per task queue, each with its own concurrency limit.
 */
import type { Client } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { activitiesFor } from '../activities';
import { createLlmClient } from '../activities/llm/llm-client';
import { createSandbox } from '../activities/sandbox';
import { benchmarkLoader } from '../activities/decontam/humaneval';
import type { Sandbox, SandboxInfo } from '../activities/sandbox/contract';
import { createDb, migrateDb } from '../db/client';
import { TASK_QUEUES, type QueueName } from '../workflows/contracts';
import type { Config } from './config/load-config';
import { connectClient, connectWorker } from './config/connect-temporal';

export { ALL_QUEUES } from '../workflows/contracts';

export interface WorkerSet {
  /** Resolves when every worker has stopped (after shutdown()). */
  run(): Promise<void>;
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

export async function startWorkers(opts: StartWorkersOptions): Promise<WorkerSet> {
  const { cfg, queues } = opts;
  const log = opts.log ?? (() => undefined);
  const { db, pool } = createDb(opts.databaseUrl, { max: 20 });
  const namespace = opts.namespace ?? cfg.temporal.namespace;
  const tq = (q: QueueName) => opts.taskQueues?.[q] ?? TASK_QUEUES[q];
  let sandbox: (Sandbox & { info: SandboxInfo }) | undefined;
  let ownConnection: NativeConnection | undefined;
  let ownClient: Client | undefined;
  const workers: Worker[] = [];
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
    if (queues.includes('orchestration') && !opts.client) ownClient = await connectClient(cfg);
    const temporal = opts.client ?? ownClient;
    for (const q of queues) {
      // SIGTERM lets in-flight activities finish (their LLM answers are cached) before they are cancelled.
      const base = { connection, namespace, taskQueue: tq(q), shutdownGraceTime: cfg.shutdownGraceMs };
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
            activities: activitiesFor(q, { db, [q]: createLlmClient(db, q, ep) }),
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
        workers.push(
          await Worker.create({
            ...base,
            activities: activitiesFor(q, {
              db,
              sandbox,
              wallFactor: cfg.sandbox.wallFactor,
              sandboxDetails,
              benchmarks: benchmarkLoader(cfg.toolsDir),
            }),
            // Each activity runs several sandboxes through the sandbox's own slot queue.
            maxConcurrentActivityTaskExecutions: Math.max(2, cfg.sandbox.slots * 2),
          }),
        );
      }
      log(`worker polling ${tq(q)}`);
    }
  } catch (err) {
    // Nothing may keep a failed start alive (the pool, the connections, the sandbox's uid lease):
    // `cairn worker` retries (Temporal or Postgres unreachable) or exits, and `cairn dev` sees it.
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
    shutdown: () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
    close: async () => {
      await sandbox?.close();
      await pool.end();
      await ownClient?.connection.close();
      await ownConnection?.close();
    },
  };
}
