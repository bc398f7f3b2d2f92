/** SeedWorkflow on a real Temporal dev server with type-checked mock activities. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { AllActivities } from '../../activities';
import type { ProposeInput } from '../../activities/teacher';
import { ERR, SA, TASK_QUEUES, type SeedWorkflowInput } from '../../workflows/contracts';
import { startTestEnv, workflowBundle } from '../helpers/temporal';
import type { seedWorkflow } from '../../workflows/seed-workflow';

type Acts = AllActivities;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTestEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

/** Scripted run: turn t's problem is valid unless listed in `invalid`, and grades to rates[t-1]. */
function script(rates: (number | 'invalid')[]) {
  const proposals: ProposeInput[] = [];
  const marks: string[] = [];
  const acts: Acts = {
    async proposeProblem(inp) {
      proposals.push(inp);
      return { problemId: 100 + inp.turn, parsed: true };
    },
    async validateProblem({ problemId }) {
      const r = rates[problemId - 101];
      return r === 'invalid' ? { valid: false, reason: 'no message' } : { valid: true, reason: null };
    },
    async attemptProblem({ attempts }) {
      return attempts;
    },
    async gradeAttempts({ problemId }) {
      const r = rates[problemId - 101] as number;
      return { passed: Math.round(r * 8), total: 8, passRate: r };
    },
    async markSeed({ status, outcome }) {
      marks.push(`${status}${outcome ? `:${outcome}` : ''}`);
    },
    async pageSeeds() {
      return [];
    },
    async closedSeeds() {
      return [];
    },
    async saveOpenSeeds() {},
    async loadOpenSeeds() {
      return [];
    },
    async dropOpenSeeds() {},
    async clearOpenSeeds() {},
    async checkBudget() {
      return { spentUsd: 0, budgetUsd: null, reached: false, reason: '' };
    },
  };
  return { acts, proposals, marks };
}

async function run(acts: Acts, input: SeedWorkflowInput, id: string) {
  const bundle = await workflowBundle();
  const workers = await Promise.all(
    Object.values(TASK_QUEUES).map((taskQueue) =>
      Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        activities: acts,
        workflowBundle: bundle,
      }),
    ),
  );
  const handle = await env.client.workflow.start<typeof seedWorkflow>('seedWorkflow', {
    taskQueue: TASK_QUEUES.orchestration,
    workflowId: id,
    args: [input],
    typedSearchAttributes: [{ key: SA.batchId, value: input.batchId }],
  });
  const settle = handle.result().then(
    (r) => ({ ok: true as const, r }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  const [first, ...rest] = workers;
  let out: Awaited<typeof settle> | undefined;
  await Promise.all([
    first!.runUntil(async () => {
      out = await settle;
    }),
    ...rest.map((w) => w.runUntil(settle)),
  ]);
  return { handle, out: out! };
}

const input = (turns: number): SeedWorkflowInput => ({ batchId: 'b1', seedId: 's1', env: 'induction', turns, attempts: 8 });

test('follows the progression rule turn by turn and records the outcome', async () => {
  const s = script([1, 0.875, 0.5, 0]);
  const { handle, out } = await run(s.acts, input(4), 'wf-progression');
  expect(out.ok).toBe(true);
  expect(s.proposals.map((p) => p.instruction)).toEqual(['initial', 'harder_weak_tests', 'harder', 'keep']);
  expect(s.proposals.map((p) => p.prevProblemId)).toEqual([null, 101, 102, 103]);
  if (out.ok) {
    expect(out.r.outcome).toBe('in_band');
    expect(out.r.turns.map((t) => t.passRate)).toEqual([1, 0.875, 0.5, 0]);
  }
  expect(s.marks).toEqual(['running', 'done:in_band']);
  const desc = await handle.describe();
  expect(desc.typedSearchAttributes.get(SA.outcome)).toBe('in_band');
  expect(desc.typedSearchAttributes.get(SA.turn)).toBe(4);
  expect(desc.typedSearchAttributes.get(SA.batchId)).toBe('b1');
});

test('an invalid problem goes back to the teacher (fix) and skips the student', async () => {
  const s = script(['invalid', 0, 'invalid']);
  let studentCalls = 0;
  const acts: Acts = {
    ...s.acts,
    async attemptProblem(i) {
      studentCalls++;
      return i.attempts;
    },
  };
  const { out } = await run(acts, input(3), 'wf-invalid');
  expect(out.ok).toBe(true);
  expect(s.proposals.map((p) => p.instruction)).toEqual(['initial', 'fix', 'easier']);
  expect(studentCalls).toBe(1);
  if (out.ok) expect(out.r.outcome).toBe('out_of_band');
});

test('a rejected LLM request (bad key, unknown model) fails the seed instead of retrying forever', async () => {
  const s = script([0.5]);
  let calls = 0;
  const acts: Acts = {
    ...s.acts,
    async proposeProblem() {
      calls++;
      throw ApplicationFailure.create({ type: ERR.llmRejected, nonRetryable: true, message: '401: check the API key' });
    },
  };
  const { out } = await run(acts, input(2), 'wf-rejected');
  expect(out.ok).toBe(false);
  expect(calls).toBe(1);
  expect(s.marks).toEqual(['running', 'failed:error: 401: check the API key']);
  if (!out.ok) {
    expect(out.e).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (out.e as WorkflowFailedError).cause as (Error & { cause?: Error }) | undefined;
    expect(String(activityFailure?.cause?.message)).toMatch(/check the API key/);
  }
});

test('a rate-limited activity is retried after its Retry-After delay and the seed finishes', async () => {
  const s = script([0.5]);
  let calls = 0;
  const acts: Acts = {
    ...s.acts,
    async proposeProblem(inp) {
      calls++;
      if (calls < 3) throw ApplicationFailure.create({ type: ERR.rateLimited, message: '429', nextRetryDelay: 50 });
      return s.acts.proposeProblem(inp);
    },
  };
  const { out } = await run(acts, input(1), 'wf-429');
  expect(out.ok).toBe(true);
  expect(calls).toBe(3);
});

test('a problem short of its M samples is not graded: the turn is invalid and the seed goes on', async () => {
  const s = script([0.5, 0.5]);
  const graded: number[] = [];
  const acts: Acts = {
    ...s.acts,
    async attemptProblem({ problemId, attempts }) {
      return problemId === 101 ? 0 : attempts;
    },
    async gradeAttempts(inp) {
      graded.push(inp.problemId);
      return s.acts.gradeAttempts(inp);
    },
  };
  const { out } = await run(acts, input(2), 'wf-shortfall');
  expect(out.ok).toBe(true);
  expect(graded).toEqual([102]);
  expect(s.proposals.map((p) => p.instruction)).toEqual(['initial', 'fix']);
  if (out.ok)
    expect(out.r.turns.map((t) => [t.valid, t.passRate])).toEqual([
      [false, null],
      [true, 0.5],
    ]);
});
