/**
 * Worker Versioning on a real dev server: a seed started on build A stays pinned to A after B
 * becomes current (it finishes on A's workers), while the batch workflow moves to B at its next
 * task and finishes there. Workers use the same deployment options as `cairn worker` with
 * CAIRN_WORKER_VERSIONING=1.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { TASK_QUEUES, batchWorkflowId, pauseUpdate, progressQuery, resumeUpdate, seedWorkflowId } from '../../workflows/contracts';
import { deploymentOptions } from '../../workers/start-workers';
import { loadConfig } from '../../workers/config/load-config';
import { batchUpdate } from '../../scripts/lib';
import { mockWorld, type Acts } from '../helpers/mock-world';
import { startTestEnv, workflowBundle } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTestEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

const DEPLOYMENT = 'cairn-vtest';

async function startBuild(buildId: string, acts: Acts): Promise<Worker[]> {
  const cfg = loadConfig({ ...process.env, CAIRN_WORKER_VERSIONING: '1', CAIRN_DEPLOYMENT_NAME: DEPLOYMENT, CAIRN_BUILD_ID: buildId });
  const bundle = await workflowBundle();
  return Promise.all(
    Object.values(TASK_QUEUES).map((taskQueue) =>
      Worker.create({ connection: env.nativeConnection, taskQueue, activities: acts, workflowBundle: bundle, ...deploymentOptions(cfg) }),
    ),
  );
}

/** `temporal worker deployment set-current-version`, retried until the build's pollers have registered it. */
async function setCurrent(buildId: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await env.client.workflowService.setWorkerDeploymentCurrentVersion({
        namespace: env.namespace ?? 'default',
        deploymentName: DEPLOYMENT,
        buildId,
        identity: 'versioning-test',
      });
      return;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function versionOf(workflowId: string): Promise<{ behavior: string; buildId: string | null | undefined }> {
  const d = await env.client.workflow.getHandle(workflowId).describe();
  const v = d.raw.workflowExecutionInfo?.versioningInfo;
  return { behavior: temporal.api.enums.v1.VersioningBehavior[v?.behavior ?? 0] ?? '?', buildId: v?.deploymentVersion?.buildId };
}

async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('seeds stay pinned to the build they started on; the batch workflow upgrades to the current build', async () => {
  const w = mockWorld(['s000', 's001']);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const builds: Record<string, string[]> = { A: [], B: [] };
  const actsFor = (b: 'A' | 'B'): Acts => ({
    ...w.acts,
    async proposeProblem(inp) {
      builds[b]?.push(inp.seedId);
      await gate;
      return w.acts.proposeProblem(inp);
    },
  });
  const a = await startBuild('A', actsFor('A'));
  const runA = Promise.all(a.map((x) => x.run()));
  let b: Worker[] = [];
  let runB: Promise<unknown> = Promise.resolve();
  try {
    await setCurrent('A');
    const h = await env.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      taskQueue: TASK_QUEUES.orchestration,
      workflowId: batchWorkflowId('v'),
      args: [{ batchId: 'v', env: 'induction', turns: 1, attempts: 2, window: 1 }],
    });
    await until('s000 at the teacher on A', async () => builds.A?.includes('s000') ?? false);
    expect(await versionOf(seedWorkflowId('v', 's000'))).toEqual({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: 'A' });
    expect(await versionOf(batchWorkflowId('v'))).toEqual({ behavior: 'VERSIONING_BEHAVIOR_AUTO_UPGRADE', buildId: 'A' });

    b = await startBuild('B', actsFor('B'));
    runB = Promise.all(b.map((x) => x.run()));
    await setCurrent('B');
    // Any task moves the batch workflow: an update is one. The new current version reaches the task
    // queue's routing asynchronously (seconds on a loaded machine), and a task dispatched before that
    // still goes to A, so nudge until the batch workflow's next task lands on B.
    await until(
      'the batch on B',
      async () => {
        await batchUpdate(h, pauseUpdate);
        await batchUpdate(h, resumeUpdate);
        return (await versionOf(batchWorkflowId('v'))).buildId === 'B';
      },
      90_000,
    );
    expect(await versionOf(seedWorkflowId('v', 's000'))).toEqual({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: 'A' });

    release();
    expect(await h.result()).toEqual({ started: 2, finished: 2, failed: 0, cancelled: false });
    expect((await h.query(progressQuery).catch(() => null))?.open ?? 0).toBe(0);
    // s000 ran on A (pinned) only; s001 started after B became current, so on B.
    expect(builds.A).toEqual(['s000']);
    expect(builds.B).toEqual(['s001']);
    expect(await versionOf(seedWorkflowId('v', 's001'))).toEqual({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: 'B' });
  } finally {
    release();
    for (const x of [...a, ...b]) x.shutdown();
    await Promise.all([runA, runB]);
  }
}, 240_000);
