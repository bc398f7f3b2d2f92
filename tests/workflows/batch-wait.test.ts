/**
 * SeedWorkflow's wait for the provider batch API, on a real Temporal dev server with mock
 * activities: an LLM activity that fails with ERR.llmBatchPending makes the seed wait (no retry),
 * the collector's llmBatchReady signal wakes it, the activity is called again and the seed
 * finishes; its history replays without non-determinism.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { ERR, TASK_QUEUES, llmBatchReadySignal, type SeedWorkflowInput } from '../../workflows/contracts';
import type { seedWorkflow } from '../../workflows/seed-workflow';
import { mockWorld, withWorkers } from '../helpers/mock-world';
import { startTestEnv, workflowBundle } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTestEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

const pending = () => ApplicationFailure.create({ type: ERR.llmBatchPending, nonRetryable: true, message: 'waits for the batch API' });

test('a batched LLM call: the seed waits for the signal, asks again, finishes; the history replays', async () => {
  const w = mockWorld(['s']);
  const answered = new Set<string>();
  const calls: string[] = [];
  // Each LLM call is pending until the test (the collector's stand-in) answers it and signals.
  const acts = {
    ...w.acts,
    async proposeProblem(inp: Parameters<typeof w.acts.proposeProblem>[0]) {
      calls.push(`teacher t${inp.turn}`);
      if (!answered.has(`teacher t${inp.turn}`)) throw pending();
      return w.acts.proposeProblem(inp);
    },
    async attemptProblem(inp: Parameters<typeof w.acts.attemptProblem>[0]) {
      calls.push(`student p${inp.problemId}`);
      if (!answered.has(`student p${inp.problemId}`)) throw pending();
      return w.acts.attemptProblem(inp);
    },
  };
  const input: SeedWorkflowInput = { batchId: 'bw', seedId: 's', env: 'induction', turns: 2, attempts: 4 };
  await withWorkers(env, acts, async () => {
    const h = await env.client.workflow.start<typeof seedWorkflow>('seedWorkflow', {
      taskQueue: TASK_QUEUES.orchestration,
      workflowId: 'batch-wait-s',
      args: [input],
    });
    for (const key of ['teacher t1', 'student p1', 'teacher t2', 'student p2']) {
      const end = Date.now() + 20_000;
      while (calls.filter((c) => c === key).length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      // It asked once and waits: no retry of a pending call.
      await new Promise((r) => setTimeout(r, 300));
      expect(calls.filter((c) => c === key)).toHaveLength(1);
      answered.add(key);
      await h.signal(llmBatchReadySignal);
    }
    const res = await h.result();
    expect(res.turns.map((t) => t.valid)).toEqual([true, true]);
  });
  expect(calls).toEqual(['teacher t1', 'teacher t1', 'student p1', 'student p1', 'teacher t2', 'teacher t2', 'student p2', 'student p2']);
  const history = await env.client.workflow.getHandle('batch-wait-s').fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'batch-wait-s');
}, 90_000);
