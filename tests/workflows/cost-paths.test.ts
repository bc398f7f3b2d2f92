/** The cost paths of the workflows on a real dev server: adaptive sampling rounds, and a budget that pauses the batch. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { progressQuery } from '../../workflows/contracts/messages';
import { TASK_QUEUES, batchWorkflowId, type SeedWorkflowInput } from '../../workflows/contracts';
import { mockWorld, withWorkers } from '../helpers/mock-world';
import { startTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTestEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

test('adaptive sampling asks in rounds (4, then 8) and stops once the grader says the interval settled', async () => {
  const w = mockWorld(['a']);
  const asked: number[] = [];
  const rounds: boolean[] = [];
  const acts = {
    ...w.acts,
    attemptProblem: async (inp: { problemId: number; attempts: number }) => {
      asked.push(inp.attempts);
      return w.acts.attemptProblem(inp);
    },
    gradeAttempts: async (inp: { problemId: number; round?: { of: number } }) => {
      rounds.push(inp.round?.of === 32);
      return w.acts.gradeAttempts(inp);
    },
  };
  const r = await withWorkers(env, acts, async () => {
    const input: SeedWorkflowInput = { batchId: 'ad', seedId: 'a', env: 'induction', turns: 1, attempts: 32, sampling: 'adaptive' };
    return env.client.workflow.execute('seedWorkflow', {
      taskQueue: TASK_QUEUES.orchestration,
      workflowId: 'cost-adaptive',
      args: [input],
    });
  });
  expect(asked).toEqual([4, 8]);
  expect(rounds).toEqual([true, true]);
  expect(r).toMatchObject({ outcome: 'in_band', turns: [{ valid: true, passRate: 0.5 }] });
});

test('fixed sampling (the default) asks for M at once and grades once', async () => {
  const w = mockWorld(['f']);
  const asked: number[] = [];
  const acts = {
    ...w.acts,
    attemptProblem: async (inp: { problemId: number; attempts: number }) => {
      asked.push(inp.attempts);
      return w.acts.attemptProblem(inp);
    },
  };
  await withWorkers(env, acts, async () => {
    const input: SeedWorkflowInput = { batchId: 'fx', seedId: 'f', env: 'induction', turns: 1, attempts: 32 };
    return env.client.workflow.execute('seedWorkflow', { taskQueue: TASK_QUEUES.orchestration, workflowId: 'cost-fixed', args: [input] });
  });
  expect(asked).toEqual([32]);
});

test('a budgeted batch pauses itself with the reason once the spend check says the budget is reached', async () => {
  const ids = Array.from({ length: 12 }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const w = mockWorld(ids);
  let checks = 0;
  const acts = {
    ...w.acts,
    // Reached at the second check (after window/4 = 1 seed started).
    checkBudget: async () => {
      checks++;
      const reached = checks >= 2;
      return {
        spentUsd: reached ? 1.5 : 0.5,
        budgetUsd: 1,
        reached,
        reason: reached ? 'paused: budget reached ($1.50 spent of $1.00)' : '',
      };
    },
  };
  const p = await withWorkers(env, acts, async () => {
    const h = await env.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      taskQueue: TASK_QUEUES.orchestration,
      workflowId: batchWorkflowId('b-budget'),
      args: [{ batchId: 'b-budget', env: 'induction', turns: 1, attempts: 4, window: 2, budgeted: true }],
    });
    const end = Date.now() + 20_000;
    for (;;) {
      const q = await h.query(progressQuery);
      if ((q.paused && q.open === 0) || Date.now() > end) {
        await h.terminate('test over');
        return q;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  expect(p.paused).toBe(true);
  expect(p.stopReason).toMatch(/budget reached/);
  // Paused before most seeds started; the started ones finished.
  expect(p.started).toBeLessThan(12);
  expect(p.finished).toBe(p.started);
  expect([...w.status.values()].filter((s) => s === 'pending').length).toBe(12 - p.started);
});
