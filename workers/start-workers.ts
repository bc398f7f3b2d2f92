/**
 * The composition root: builds clients once (pg pool, OpenAI clients, sandbox) and one Temporal
 * Worker per task queue, each with its own concurrency limit.
 */
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { activitiesFor } from '../activities';
import { createLlmClient } from '../activities/llm/llm-client';
import { createSandbox } from '../activities/sandbox';
import { benchmarkLoader } from '../activities/decontam/humaneval';
import type { Sandbox } from '../activities/sandbox/contract';
import { createDb, migrateDb } from '../db/client';
import { TASK_QUEUES, type QueueName } from '../workflows/contracts';
import type { Config } from './config/load-config';
import { connectWorker } from './config/connect-temporal';

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
  /** Tests pass the test environment's connection and namespace. */
  connection?: NativeConnection;
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
  await migrateDb(db);
  const connection = opts.connection ?? (await connectWorker(cfg));
  const namespace = opts.namespace ?? cfg.temporal.namespace;
  const tq = (q: QueueName) => opts.taskQueues?.[q] ?? TASK_QUEUES[q];
  let sandbox: Sandbox | undefined;
  const workers: Worker[] = [];

  for (const q of queues) {
    const base = { connection, namespace, taskQueue: tq(q) };
    if (q === 'orchestration') {
      workers.push(await Worker.create({
        ...base,
        ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
        activities: activitiesFor(q, { db }),
        maxConcurrentWorkflowTaskExecutions: 40,
      }));
    } else if (q === 'teacher' || q === 'student') {
      const ep = cfg[q];
      workers.push(await Worker.create({
        ...base, activities: activitiesFor(q, { db, [q]: createLlmClient(db, q, ep) }),
        maxConcurrentActivityTaskExecutions: ep.concurrency,
      }));
    } else {
      const sb = await createSandbox({
        stateDir: cfg.toolsDir, slots: cfg.sandbox.slots, uidBase: cfg.sandbox.uidBase, memoryMb: cfg.sandbox.memoryMb, log,
      });
      sandbox = sb;
      const sandboxDetails = { memoryMb: cfg.sandbox.memoryMb, privilege: sb.info.privilege, cgroupMode: sb.info.cgroupMode, python: sb.info.python };
      workers.push(await Worker.create({
        ...base, activities: activitiesFor(q, { db, sandbox: sb, wallFactor: cfg.sandbox.wallFactor, sandboxDetails, benchmarks: benchmarkLoader(cfg.toolsDir) }),
        // Each activity runs several sandboxes through the sandbox's own slot queue.
        maxConcurrentActivityTaskExecutions: Math.max(2, cfg.sandbox.slots * 2),
      }));
    }
    log(`worker polling ${tq(q)}`);
  }

  return {
    run: async () => { await Promise.all(workers.map((w) => w.run())); },
    shutdown: () => { for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown(); },
    close: async () => {
      await sandbox?.close();
      await pool.end();
      if (!opts.connection) await connection.close();
    },
  };
}
