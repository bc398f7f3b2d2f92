/**
 * Records the workflow histories that the replay test checks every change against, from real runs
 * on a dev server, into histories/<release>/ (default: the build id, `<package version>-<git sha>`,
 * see workers/config/build-id.ts). Folders of earlier releases are never touched: every release's
 * histories are replayed by every later release. Run it when a workflow changes on purpose (behind
 * `patched()` for running workflows), then commit the new folder:
 *   npx tsx tests/workflows/make-histories.ts [--release NAME]
 * Recorded: a seed in each mode, a plain batch, and a batch that continues as new, gets every update
 * (pause, resize, resume, cancel) and seed-done signals, with a failed and a cancelled seed (their
 * own histories too).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { batchUpdate } from '../../scripts/lib/control';
import { buildId } from '../../workers/config/build-id';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import {
  TASK_QUEUES,
  batchWorkflowId,
  cancelUpdate,
  pauseUpdate,
  progressQuery,
  resizeUpdate,
  resumeUpdate,
  seedWorkflowId,
  type BatchWorkflowInput,
  type SeedWorkflowInput,
} from '../../workflows/contracts';
import { mockWorld, withWorkers } from '../helpers/mock-world';
import { startTestEnv, temporalCliPath } from '../helpers/temporal';

function show(env: TestWorkflowEnvironment, id: string, runId?: string): Buffer {
  // The CLI's JSON is the canonical proto JSON that historyFromJSON reads back.
  return execFileSync(
    temporalCliPath(),
    ['workflow', 'show', '--address', env.address, '--workflow-id', id, ...(runId ? ['--run-id', runId] : []), '--output', 'json'],
    { maxBuffer: 1 << 26 },
  );
}

async function until(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function simpleRuns(env: TestWorkflowEnvironment, out: string): Promise<void> {
  const w = mockWorld(['s000', 's001', 's002', 's003'], { passRate: 0.5 });
  await withWorkers(env, w.acts, async () => {
    const runs: [string, string, unknown][] = [
      ['seed-multi', 'seedWorkflow', { batchId: 'r', seedId: 'm', env: 'induction', turns: 3, attempts: 4 } satisfies SeedWorkflowInput],
      [
        'seed-single',
        'seedWorkflow',
        { batchId: 'r', seedId: 's', env: 'induction', turns: 2, attempts: 4, mode: 'single' } satisfies SeedWorkflowInput,
      ],
      [
        'seed-chain',
        'seedWorkflow',
        { batchId: 'r', seedId: 'c', env: 'induction', turns: 3, attempts: 4, mode: 'chain' } satisfies SeedWorkflowInput,
      ],
      ['batch', 'batchWorkflow', { batchId: 'rb', env: 'induction', turns: 1, attempts: 2, window: 2 } satisfies BatchWorkflowInput],
      [
        'seed-adaptive',
        'seedWorkflow',
        { batchId: 'r', seedId: 'a', env: 'induction', turns: 2, attempts: 16, sampling: 'adaptive' } satisfies SeedWorkflowInput,
      ],
      [
        'batch-budget',
        'batchWorkflow',
        { batchId: 'rbb', env: 'induction', turns: 1, attempts: 2, window: 2, budgeted: true } satisfies BatchWorkflowInput,
      ],
    ];
    for (const [name, type, input] of runs) {
      const id = type === 'batchWorkflow' ? batchWorkflowId((input as { batchId: string }).batchId) : `replay-${name}`;
      const h = await env.client.workflow.start(type, { taskQueue: TASK_QUEUES.orchestration, workflowId: id, args: [input] });
      await h.result();
      fs.writeFileSync(path.join(out, `${name}.json`), show(env, id));
      console.log(`wrote ${name}.json`);
    }
  });
}

/** A batch through continue-as-new, every update, seed-done signals, a failed seed and cancelled ones. */
async function lifecycle(env: TestWorkflowEnvironment, out: string): Promise<void> {
  const ids = ['s000', 's001', 's002', 's003', 's004', 's005', 's006', 's007'];
  const w = mockWorld(ids);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const acts = {
    ...w.acts,
    async proposeProblem(inp: Parameters<typeof w.acts.proposeProblem>[0]) {
      if (inp.seedId === 's001') throw ApplicationFailure.create({ type: 'Boom', nonRetryable: true, message: 'a deterministic failure' });
      if (inp.seedId >= 's004') await gate; // held: open when the cancel comes
      return w.acts.proposeProblem(inp);
    },
  };
  const id = batchWorkflowId('rl');
  await withWorkers(env, acts, async () => {
    try {
      const h = await env.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
        taskQueue: TASK_QUEUES.orchestration,
        workflowId: id,
        args: [{ batchId: 'rl', env: 'induction', turns: 1, attempts: 2, window: 2, childrenPerRun: 3 } satisfies BatchWorkflowInput],
      });
      await until('two seeds held open after a continue-as-new', async () => {
        const p = await h.query(progressQuery);
        return p.started >= 6 && p.open === 2;
      });
      await batchUpdate(h, pauseUpdate);
      await batchUpdate(h, resizeUpdate, 3);
      await batchUpdate(h, resumeUpdate);
      await until('three open', async () => (await h.query(progressQuery)).open === 3);
      await batchUpdate(h, cancelUpdate);
      release();
      await h.result();
      // The re-run failed seed may hold one of the three slots at the cancel: at least two are cancelled.
      await until('cancelled seeds recorded', async () => {
        const st = [...w.status.values()];
        return st.filter((s) => s === 'cancelled').length >= 2 && !st.includes('running');
      });
    } finally {
      release();
    }
  });
  const runs: string[] = [];
  for await (const ex of env.client.workflow.list({ query: `WorkflowId = "${id}"` })) runs.push(ex.runId);
  runs.reverse(); // oldest first
  if (runs.length < 2) throw new Error(`expected the lifecycle batch to continue as new, got ${runs.length} run(s)`);
  runs.forEach((runId, i) => {
    fs.writeFileSync(path.join(out, `batch-lifecycle-run${i + 1}.json`), show(env, id, runId));
    console.log(`wrote batch-lifecycle-run${i + 1}.json`);
  });
  fs.writeFileSync(path.join(out, 'seed-failed.json'), show(env, seedWorkflowId('rl', 's001')));
  const cancelled = ids.find((s) => w.status.get(s) === 'cancelled') as string;
  fs.writeFileSync(path.join(out, 'seed-cancelled.json'), show(env, seedWorkflowId('rl', cancelled)));
  console.log('wrote seed-failed.json, seed-cancelled.json');
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--release');
  const release = i >= 0 ? (process.argv[i + 1] as string) : buildId();
  const out = path.join(__dirname, 'histories', release);
  if (fs.existsSync(out)) throw new Error(`histories/${release} exists: a release's histories are kept as recorded (pass --release NAME)`);
  fs.mkdirSync(out, { recursive: true });
  const env = await startTestEnv();
  try {
    await simpleRuns(env, out);
    await lifecycle(env, out);
  } catch (err) {
    fs.rmSync(out, { recursive: true, force: true });
    throw err;
  } finally {
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
