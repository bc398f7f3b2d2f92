/**
 * The composition root: builds clients once (pg pool, OpenAI clients, sandbox) and one Temporal
 * Worker per task queue, each with its own concurrency limit.
 */
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import {
  createBookkeepingActivities, createGraderActivities, createStudentActivities, createTeacherActivities,
} from '../activities';
import { createLlmClient } from '../activities/llm/llm-client';
import { createSandbox } from '../activities/sandbox';
import type { Sandbox } from '../activities/sandbox/contract';
import { createDb, migrateDb } from '../db/client';
import { TASK_QUEUES, type QueueName } from '../workflows/contracts';
import type { Config } from './config/load-config';
import { connectWorker } from './config/connect-temporal';

export const ALL_QUEUES: QueueName[] = ['orchestration', 'teacher', 'student', 'grader'];

export interface WorkerSet {
  /** Resolves when every worker has stopped (after shutdown()). */
  run(): Promise<void>;
  shutdown(): void;
  close(): Promise<void>;
}

export interface StartWorkersOptions {
  cfg: Readonly<Config>;
  databaseUrl: string;
  queues: QueueName[];
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
  const namespace = opts.namespace ?? cfg.temporal.namespace;
  const tq = (q: QueueName) => opts.taskQueues?.[q] ?? TASK_QUEUES[q];
  let sandbox: Sandbox | undefined;
  let ownConnection: NativeConnection | undefined;
  const workers: Worker[] = [];
  try {
    await migrateDb(db);
    // The sandbox first: it is what most often refuses to start (host set-up), and failing before
    // any Worker exists leaves nothing holding the connection.
    if (queues.includes('grader')) {
      sandbox = await createSandbox({
        stateDir: cfg.sandbox.stateDir, slots: cfg.sandbox.slots, uidBase: cfg.sandbox.uidBase, memoryMb: cfg.sandbox.memoryMb, log,
      });
    }
    const connection = opts.connection ?? (ownConnection = await connectWorker(cfg));
    for (const q of queues) {
      const base = { connection, namespace, taskQueue: tq(q) };
      if (q === 'orchestration') {
        workers.push(await Worker.create({
          ...base,
          ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
          activities: createBookkeepingActivities({ db }),
          maxConcurrentWorkflowTaskExecutions: 40,
        }));
      } else if (q === 'teacher') {
        workers.push(await Worker.create({
          ...base, activities: createTeacherActivities({ db, teacher: createLlmClient(db, 'teacher', cfg.teacher) }),
          maxConcurrentActivityTaskExecutions: cfg.teacher.concurrency,
        }));
      } else if (q === 'student') {
        workers.push(await Worker.create({
          ...base, activities: createStudentActivities({ db, student: createLlmClient(db, 'student', cfg.student), visiblePairs: 3 }),
          maxConcurrentActivityTaskExecutions: cfg.student.concurrency,
        }));
      } else if (sandbox) {
        workers.push(await Worker.create({
          ...base, activities: createGraderActivities({ db, sandbox, timeLimitMs: cfg.sandbox.timeLimitMs, slack: 10, wallFactor: cfg.sandbox.wallFactor }),
          // Each activity runs several sandboxes through the sandbox's own slot queue.
          maxConcurrentActivityTaskExecutions: Math.max(2, cfg.sandbox.slots * 2),
        }));
      }
      log(`worker polling ${tq(q)}`);
    }
  } catch (err) {
    // Nothing may keep a failed start alive (the pool, the connection, the sandbox's uid lease):
    // `cairn worker` must exit so that `cairn dev` / `cairn demo` see the failure.
    await sandbox?.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await ownConnection?.close().catch(() => undefined);
    throw err;
  }

  return {
    run: async () => { await Promise.all(workers.map((w) => w.run())); },
    shutdown: () => { for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown(); },
    close: async () => {
      await sandbox?.close();
      await pool.end();
      await ownConnection?.close();
    },
  };
}
