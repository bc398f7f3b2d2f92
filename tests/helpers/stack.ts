/**
 * The real stack for end-to-end tests: a Temporal dev server, a fresh Postgres database, the LLM
 * simulator over HTTP, and Cairn's real workers (real activities, real sandbox) on every queue.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSimServer, type SimOptions } from '../../scripts/sim';
import { loadConfig, type Config } from '../../workers/config/load-config';
import { ALL_QUEUES, startWorkers, type WorkerSet } from '../../workers/start-workers';
import { createTestDb, type TestDb } from './db';
import { tracked } from './tracked-processes';
import { startTestEnv, workflowBundle } from './temporal';

export interface TestStack {
  env: TestWorkflowEnvironment;
  tdb: TestDb;
  sim: Awaited<ReturnType<typeof createSimServer>>;
  cfg: Readonly<Config>;
  /** Environment for a `cairn` child process pointed at this stack. */
  childEnv: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startTestStack(
  tag: string,
  o: { sim?: SimOptions; apiKey?: string; extraEnv?: NodeJS.ProcessEnv } = {},
): Promise<TestStack> {
  // Each part is tracked (procs.ts): when one fails to start, the test cleanup closes the others.
  const [env, tdb, sim] = await Promise.all([
    startTestEnv(),
    createTestDb(tag),
    startTestSim({ port: 0, seed: 3, ...(o.apiKey ? { apiKey: o.apiKey } : {}), ...o.sim }),
  ]);
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    CAIRN_TEACHER_BASE_URL: sim.url,
    CAIRN_STUDENT_BASE_URL: sim.url,
    DATABASE_URL: tdb.url,
    TEMPORAL_ADDRESS: env.address,
    CAIRN_SHUTDOWN_GRACE_MS: '5000',
    ...(o.apiKey ? { CAIRN_TEACHER_API_KEY: o.apiKey, CAIRN_STUDENT_API_KEY: o.apiKey } : {}),
    ...o.extraEnv,
  };
  const cfg = loadConfig(childEnv);
  let workers: WorkerSet | undefined;
  let running: Promise<void> = Promise.resolve();
  try {
    workers = await startWorkers({
      cfg,
      databaseUrl: tdb.url,
      queues: ALL_QUEUES,
      connection: env.nativeConnection,
      client: env.client,
      namespace: env.namespace,
      workflowBundle: await workflowBundle(),
    });
    running = workers.run();
  } catch (err) {
    await Promise.all([sim.close(), tdb.drop(), env.teardown()]);
    throw err;
  }
  return tracked(
    'test stack (workers, simulator, database, dev server)',
    {
      env,
      tdb,
      sim,
      cfg,
      childEnv,
      stop: async () => {
        workers?.shutdown();
        await running;
        await workers?.close();
        await sim.close();
        await tdb.drop();
        await env.teardown();
      },
    },
    'stop',
  );
}

/** The LLM simulator on a random port, closed by the test cleanup if the test does not. */
export async function startTestSim(opts: SimOptions): Promise<Awaited<ReturnType<typeof createSimServer>>> {
  return tracked('LLM simulator', await createSimServer(opts), 'close');
}
