/** BatchWorkflow on a real dev server: window, continue-as-new, pause/resume/resize/cancel. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { cancelUpdate, pauseUpdate, progressQuery, resizeUpdate, resumeUpdate } from '../../workflows/contracts/messages';
import { ApplicationFailure } from '@temporalio/common';
import { ERR, SA, TASK_QUEUES, batchWorkflowId, type BatchWorkflowInput } from '../../workflows/contracts';
import { mockWorld, withWorkers } from '../helpers/mock-world';
import { batchUpdate, runningBatchStates } from '../../scripts/lib';
import { startTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTestEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

const ids = (n: number) => Array.from({ length: n }, (_, i) => `s${String(i).padStart(3, '0')}`);
const input = (batchId: string, extra: Partial<BatchWorkflowInput> = {}): BatchWorkflowInput => ({
  batchId,
  env: 'induction',
  turns: 1,
  attempts: 4,
  window: 3,
  ...extra,
});

/** The workflow's current details (what the UI shows on its page), from the SDK's built-in metadata query. */
async function currentDetails(h: WorkflowHandle): Promise<string> {
  const meta = await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return meta.currentDetails ?? '';
}

async function until(what: string, fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('keeps at most W seeds open, continues as new, and finishes every seed', async () => {
  const w = mockWorld(ids(14), { teacherDelayMs: 200 });
  const result = await withWorkers(env, w.acts, async () => {
    const h = await env.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      taskQueue: TASK_QUEUES.orchestration,
      workflowId: batchWorkflowId('b-window'),
      args: [input('b-window', { childrenPerRun: 5 })],
    });
    const r = await h.result();
    const runs = [];
    for await (const ex of env.client.workflow.list({ query: `WorkflowId = "${batchWorkflowId('b-window')}"` })) runs.push(ex.runId);
    return { r, runs: runs.length };
  });
  expect(result.r).toEqual({ started: 14, finished: 14, failed: 0, cancelled: false });
  expect(w.maxInFlight()).toBeLessThanOrEqual(3);
  expect(w.maxInFlight()).toBeGreaterThanOrEqual(2);
  expect([...w.status.values()].every((s) => s === 'done')).toBe(true);
  expect(result.runs).toBeGreaterThanOrEqual(3); // 14 children, 5 per run
  expect(w.snapshotWrites()).toBeGreaterThanOrEqual(2); // the open set crossed each continue-as-new through "Postgres"
  expect(w.snapshots.size).toBe(0); // and was dropped when the batch ended
});

test('pause, resume, resize and cancel from outside', async () => {
  const w = mockWorld(ids(10));
  w.hold();
  await withWorkers(env, w.acts, async () => {
    try {
      const h = await env.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
        taskQueue: TASK_QUEUES.orchestration,
        workflowId: batchWorkflowId('b-ctl'),
        args: [input('b-ctl', { paused: true, window: 2 })],
      });
      await new Promise((r) => setTimeout(r, 500));
      expect((await h.query(progressQuery)).started).toBe(0); // paused: nothing starts

      await batchUpdate(h, resumeUpdate);
      await until('2 open', async () => (await h.query(progressQuery)).open === 2);
      const grown = await batchUpdate(h, resizeUpdate, 4);
      expect(grown.window).toBe(4);
      await until('4 open', async () => (await h.query(progressQuery)).open === 4);
      const bad = await h.executeUpdate(resizeUpdate, { args: [0] }).catch((e: Error & { cause?: Error }) => e);
      expect(String((bad as Error & { cause?: Error }).cause?.message)).toMatch(/window must be a whole number >= 1/);

      const paused = await batchUpdate(h, pauseUpdate);
      expect(paused.paused).toBe(true);
      // Where people look: the search attribute (the UI's list, `batch list`) and the current details.
      await until('BatchState paused', async () => (await h.describe()).typedSearchAttributes.get(SA.batchState) === 'paused');
      expect((await runningBatchStates(env.client)).get('b-ctl')).toBe('paused');
      expect(await currentDetails(h)).toMatch(/^PAUSED .*4 open \(window 4\)/);
      const cancelled = await batchUpdate(h, cancelUpdate);
      expect(cancelled.cancelled).toBe(true);
      w.open();
      const r = await h.result();
      expect(r.cancelled).toBe(true);
      expect(r.started).toBe(4);
      await until('cancelled seeds recorded', async () => [...w.status.values()].filter((x) => x === 'cancelled').length === 4);
    } finally {
      w.open(); // held activities must finish or the workers cannot shut down
    }
  });
  // The 4 open seeds were cancelled and recorded so; the 6 never started stay pending for a resume.
  const st = [...w.status.values()];
  expect(st.filter((s) => s === 'cancelled')).toHaveLength(4);
  expect(st.filter((s) => s === 'pending')).toHaveLength(6);
});

test('a rejected LLM request (bad key) pauses the batch with the reason instead of failing every seed', async () => {
  const w = mockWorld(ids(20));
  const acts = {
    ...w.acts,
    async proposeProblem(): Promise<never> {
      throw ApplicationFailure.create({
        type: ERR.llmRejected,
        nonRetryable: true,
        message: 'teacher endpoint rejected the request with 401: check the API key',
      });
    },
  };
  await withWorkers(env, acts, async () => {
    const h = await env.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      taskQueue: TASK_QUEUES.orchestration,
      workflowId: batchWorkflowId('b-401'),
      args: [input('b-401', { window: 3 })],
    });
    await until('paused with a reason', async () => (await h.query(progressQuery)).stopReason !== null);
    await until('open seeds settled', async () => (await h.query(progressQuery)).open === 0);
    const p = await h.query(progressQuery);
    expect(p.paused).toBe(true);
    expect(p.stopReason).toMatch(/401: check the API key/);
    expect(p.started).toBeLessThanOrEqual(5); // it stopped starting seeds, it did not burn through all 20
    await until('BatchState stopped', async () => (await runningBatchStates(env.client)).get('b-401') === 'stopped');
    expect(await currentDetails(h)).toMatch(/^STOPPED, paused: an LLM endpoint rejected a request \(teacher endpoint rejected/);
    await batchUpdate(h, cancelUpdate);
    await h.result();
  });
  expect([...w.status.values()].filter((s) => s.startsWith('failed')).length).toBeGreaterThan(0);
});

test('resume on a running batch re-runs its failed seeds now, without starting running ones twice', async () => {
  const w = mockWorld(ids(4));
  let broken = true;
  let teacherCalls = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const acts = {
    ...w.acts,
    async proposeProblem(inp: Parameters<typeof w.acts.proposeProblem>[0]) {
      teacherCalls++;
      if (inp.seedId === 's000' && broken)
        throw ApplicationFailure.create({ type: 'Boom', nonRetryable: true, message: 'deterministic failure' });
      if (inp.seedId !== 's000') await gate;
      return w.acts.proposeProblem(inp);
    },
  };
  await withWorkers(env, acts, async () => {
    try {
      const h = await env.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
        taskQueue: TASK_QUEUES.orchestration,
        workflowId: batchWorkflowId('b-rerun'),
        args: [input('b-rerun', { window: 4 })],
      });
      await until('s000 failed', async () => (w.status.get('s000') ?? '').startsWith('failed'));
      await until('failure counted', async () => (await h.query(progressQuery)).failed === 1);
      broken = false;
      await batchUpdate(h, resumeUpdate);
      await until('s000 done while the batch still runs', async () => w.status.get('s000') === 'done');
      await until('s000 counted', async () => (await h.query(progressQuery)).finished === 1);
      expect((await h.query(progressQuery)).open).toBe(3); // the three held seeds, not started again
      release();
      const r = await h.result();
      expect(r).toEqual({ started: 5, finished: 4, failed: 1, cancelled: false });
    } finally {
      release(); // held activities must finish or the workers cannot shut down
    }
  });
  expect(teacherCalls).toBe(5); // s000 twice, the others once
}, 90_000);

test('a paused batch continues as new on its idle budget instead of growing its history', async () => {
  const w = mockWorld(ids(3));
  await withWorkers(env, w.acts, async () => {
    const h = await env.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      taskQueue: TASK_QUEUES.orchestration,
      workflowId: batchWorkflowId('b-idle'),
      args: [input('b-idle', { paused: true, reconcileEvery: '200ms', idleBudget: 150 })],
    });
    const runs = async () => {
      let n = 0;
      for await (const _ of env.client.workflow.list({ query: `WorkflowId = "${batchWorkflowId('b-idle')}"` })) n++;
      return n;
    };
    await until('3 runs while paused', async () => (await runs()) >= 3, 30_000);
    const p = await h.query(progressQuery);
    expect(p).toMatchObject({ paused: true, started: 0 }); // carried across runs
    await batchUpdate(h, resumeUpdate);
    expect(await h.result()).toEqual({ started: 3, finished: 3, failed: 0, cancelled: false });
  });
}, 90_000);
