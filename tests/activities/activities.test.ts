/**
 * Activities with fake dependencies (an LLM client and a sandbox typed from the real interfaces)
 * on a real Postgres, run inside MockActivityEnvironment: idempotency, classification, limits.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { activitiesFor, createBookkeepingActivities } from '../../activities';
import { createLlmClient, requestKey, sampleHash, type LlmClient } from '../../activities/llm/llm-client';
import { findLlmCall } from '../../db/queries/llm';
import { createSimServer } from '../../scripts/sim';
import { SandboxInfraError } from '../../activities/sandbox';
import type { RunRequest, RunResult, Sandbox } from '../../activities/sandbox/contract';
import { insertSeeds, upsertBatch } from '../../db/queries/batches';
import { getProblem, listAttempts, listGradedAttempts } from '../../db/queries/problems';
import { batchSummary } from '../../db/queries/stats';
import { formatSummary } from '../../scripts/lib/status-text';
import { listProvenance } from '../../db/queries/provenance';
import { createTestDb, testSettings, type TestDb } from '../helpers/db';

let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('acts');
  await upsertBatch(tdb.db, 'A', testSettings({ dedup: 'off', timeLimitMs: 1000, timeSlack: 300 }));
  await insertSeeds(tdb.db, [{ batchId: 'A', seedId: 's1', snippet: 'def g(x):\n    return x * 2' }]);
});
afterAll(async () => {
  await tdb?.drop();
});

const GOOD = [
  '```python\ndef f(x):\n    return x * 3\n```',
  ...['1', '2', '3', '4', '5'].map((i) => '```input\n' + i + '\n```'),
  '```message\nTriple it.\n```',
].join('\n');

function fakeLlm(answers: string[]): LlmClient & { calls: number } {
  const c = {
    role: 'fake',
    model: 'fake',
    calls: 0,
    async complete(_m: unknown, o: { n: number }) {
      c.calls++;
      return {
        callId: 0,
        callIds: Array.from({ length: o.n }, () => 0),
        choices: Array.from({ length: o.n }, (_, i) => answers[i % answers.length] ?? ''),
        cached: false,
      };
    },
  };
  return c;
}

/** Runs each input through a tiny evaluator instead of Python: f(x) = the number in `return x * N`. */
function fakeSandbox(opts: { infra?: boolean } = {}): Sandbox & { runs: RunRequest[] } {
  const runs: RunRequest[] = [];
  return {
    runs,
    async run(req: RunRequest): Promise<RunResult> {
      runs.push(req);
      if (opts.infra) throw new SandboxInfraError('could not start bwrap: Resource temporarily unavailable');
      if (req.code.includes('FORGE')) {
        const error = "protocol violation: the code wrote forged or garbage lines into the grader's channel";
        return {
          sandboxes: 1,
          protocolViolation: error,
          outcomes: req.inputs.map((_, i) =>
            i === 0 ? { status: 'protocol_violation', error, wallMs: 1 } : { status: 'skipped', wallMs: 0 },
          ),
        };
      }
      const k = Number(/return x \* (\d+)/.exec(req.code)?.[1] ?? NaN);
      return {
        sandboxes: 1,
        outcomes: req.inputs.map((i) =>
          Number.isNaN(k)
            ? { status: 'error', error: 'NameError', wallMs: 1 }
            : { status: 'ok', out: String(Number(i) * k), cpuMs: 5, wallMs: 1 },
        ),
      };
    },
    async close() {
      /* nothing */
    },
  };
}

const mock = new MockActivityEnvironment();
/** MockActivityEnvironment.run, keeping the activity's own types. */
const env = { run: <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> => mock.run(fn, ...args) as Promise<R> };
const propose = { batchId: 'A', seedId: 's1', env: 'induction' as const, instruction: 'initial' as const, prevProblemId: null };

test('teacher: one LLM call per turn even when the activity is retried; parse errors are recorded with the reason', async () => {
  const llm = fakeLlm([GOOD]);
  const t = activitiesFor('teacher', { db: tdb.db, teacher: llm });
  const a = await env.run(t.proposeProblem, { ...propose, turn: 1 });
  const b = await env.run(t.proposeProblem, { ...propose, turn: 1 });
  expect(b).toEqual(a);
  expect(a.parsed).toBe(true);
  expect(llm.calls).toBe(1);
  const bad = await env.run(activitiesFor('teacher', { db: tdb.db, teacher: fakeLlm(['no blocks']) }).proposeProblem, {
    ...propose,
    turn: 2,
  });
  expect(bad.parsed).toBe(false);
  expect((await getProblem(tdb.db, bad.problemId)).invalidReason).toMatch(/No ```python block/);
});

test('grader + student: outputs come from execution; limits from the reference CPU; retries do not re-grade', async () => {
  const t = activitiesFor('teacher', { db: tdb.db, teacher: fakeLlm([GOOD]) });
  const { problemId } = await env.run(t.proposeProblem, { ...propose, turn: 3 });
  const sandbox = fakeSandbox();
  const g = activitiesFor('grader', { db: tdb.db, sandbox, wallFactor: 3 });
  expect(await env.run(g.validateProblem, { problemId })).toEqual({ valid: true, reason: null });
  expect((await getProblem(tdb.db, problemId)).outputs).toEqual(['3', '6', '9', '12', '15']);

  const answers = ['```python\ndef f(x):\n    return x * 3\n```', '```python\ndef f(x):\n    return x * 2\n```', 'no code'];
  const s = activitiesFor('student', { db: tdb.db, student: fakeLlm(answers) });
  expect(await env.run(s.attemptProblem, { problemId, attempts: 6 })).toBe(6);
  expect(await listAttempts(tdb.db, problemId)).toHaveLength(6);

  const r = await env.run(g.gradeAttempts, { problemId });
  expect(r).toMatchObject({ passed: 2, total: 6, passRate: 2 / 6 });
  // The Wilson interval at the batch's confidence (0.95) is returned and recorded with the counts.
  expect([r.low, r.high].map((x) => Number(x?.toFixed(4)))).toEqual([0.0968, 0.7]);
  expect(await getProblem(tdb.db, problemId)).toMatchObject({ attempts: 6, passed: 2, passLow: r.low, passHigh: r.high });
  const gradeRuns = sandbox.runs.slice(2); // after the two validation runs
  expect(gradeRuns).toHaveLength(4); // the two unparseable answers never reach the sandbox
  expect(gradeRuns.every((x) => x.timeLimitMs === 1500 && x.wallFactor === 3 && x.failFast === true)).toBe(true); // max(1000, 300 x 5 ms)
  expect(await env.run(g.gradeAttempts, { problemId })).toEqual(r);
  expect(sandbox.runs).toHaveLength(6); // a retried grade runs nothing again
});

test('adaptive rounds: a round that settles nothing leaves the problem valid; the next grades only the new attempts and settles', async () => {
  const t = activitiesFor('teacher', { db: tdb.db, teacher: fakeLlm([GOOD]) });
  const { problemId } = await env.run(t.proposeProblem, { ...propose, turn: 5 });
  const sandbox = fakeSandbox();
  const g = activitiesFor('grader', { db: tdb.db, sandbox, wallFactor: 3 });
  expect((await env.run(g.validateProblem, { problemId })).valid).toBe(true);
  const s = activitiesFor('student', { db: tdb.db, student: fakeLlm(['```python\ndef f(x):\n    return x * 3\n```']) });
  expect(await env.run(s.attemptProblem, { problemId, attempts: 4 })).toBe(4);
  // 4/4: the interval [0.51, 1] reaches below 0.65, so "too easy" is not settled yet.
  expect(await env.run(g.gradeAttempts, { problemId, round: { of: 32 } })).toMatchObject({ passed: 4, total: 4, settled: false });
  expect((await getProblem(tdb.db, problemId)).status).toBe('valid');
  expect(await env.run(s.attemptProblem, { problemId, attempts: 8 })).toBe(8);
  const r = await env.run(g.gradeAttempts, { problemId, round: { of: 32 } });
  expect(r).toMatchObject({ passed: 8, total: 8, passRate: 1, settled: true });
  expect(r.low).toBeGreaterThan(0.65);
  expect(await getProblem(tdb.db, problemId)).toMatchObject({ status: 'graded', attempts: 8, passed: 8 });
  expect(sandbox.runs).toHaveLength(2 + 8); // two validation runs, then each attempt graded once
  expect(await env.run(g.gradeAttempts, { problemId, round: { of: 32 } })).toMatchObject({ passed: 8, settled: true });
});

test('a sandbox that cannot start is a retryable infra failure, never a grade of 0', async () => {
  const t = activitiesFor('teacher', { db: tdb.db, teacher: fakeLlm([GOOD]) });
  const { problemId } = await env.run(t.proposeProblem, { ...propose, turn: 4 });
  const g = activitiesFor('grader', { db: tdb.db, sandbox: fakeSandbox({ infra: true }) });
  const err = await env.run(g.validateProblem, { problemId }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe('SandboxInfraError');
  expect((err as ApplicationFailure).nonRetryable).toBe(false);
  expect((await getProblem(tdb.db, problemId)).status).toBe('proposed');
});

test('the LLM client pays once per distinct request: a repeat is served from Postgres and counted', async () => {
  const sim = await createSimServer({ port: 0, seed: 4 });
  try {
    const ep = {
      baseURL: sim.url,
      model: 'sim-teacher',
      apiKey: 'k',
      concurrency: 1,
      sampleConcurrency: 4,
      extraBody: {},
      useN: true,
      timeoutMs: 10_000,
    };
    const llm = createLlmClient(tdb.db, 'teacher', ep);
    const msgs = [{ role: 'user' as const, content: '# Environment: induction\n\n## Seed\n\n```seed\nx = 1\n```' }];
    const a = await llm.complete(msgs, { n: 1 });
    const b = await llm.complete(msgs, { n: 1 });
    const c = await llm.complete(msgs, { n: 1, sample: 2 }); // a distinct sample is a distinct request
    expect(a.cached).toBe(false);
    expect(b).toEqual({ ...a, cached: true });
    expect(c.cached).toBe(false);
    expect(sim.stats().byRole.teacher['200']).toBe(2);
    expect((await findLlmCall(tdb.db, sampleHash(requestKey(new URL(sim.url).host, 'sim-teacher', msgs, {}), 0)))?.cacheHits).toBe(1);
  } finally {
    await sim.close();
  }
});

test('activities read their settings from the batch record and record what they used', async () => {
  await upsertBatch(
    tdb.db,
    'V',
    testSettings({ visiblePairs: 1, dedup: 'off', mode: 'chain', chainBins: { hard: [0.1, 0.2], medium: [0.4, 0.6], easy: [0.8, 0.9] } }),
  );
  await insertSeeds(tdb.db, [{ batchId: 'V', seedId: 's1', snippet: 'def g(x):\n    return x * 2' }]);
  const seen: string[] = [];
  const teacher = { ...fakeLlm([GOOD]), provenance: { model: 'fake-teacher', endpointHost: 'llm.example:8000' } };
  const studentLlm = fakeLlm(['```python\ndef f(x):\n    return x * 3\n```']);
  const student: LlmClient = {
    ...studentLlm,
    complete: async (m, o) => {
      seen.push(JSON.stringify(m));
      return studentLlm.complete(m, o);
    },
  };
  const recordingTeacher: LlmClient = {
    ...teacher,
    complete: async (m, o) => {
      seen.push(JSON.stringify(m));
      return teacher.complete(m, o);
    },
  };
  const { problemId } = await env.run(activitiesFor('teacher', { db: tdb.db, teacher: recordingTeacher }).proposeProblem, {
    ...propose,
    batchId: 'V',
    turn: 1,
    instruction: 'chain_hard',
  });
  expect(seen[0]).toContain('10-20%'); // the batch's hard bin, not the paper's 5-16%
  const g = activitiesFor('grader', { db: tdb.db, sandbox: fakeSandbox(), sandboxDetails: { memoryMb: 256, privilege: 'user' } });
  expect((await env.run(g.validateProblem, { problemId })).valid).toBe(true);
  await env.run(activitiesFor('student', { db: tdb.db, student }).attemptProblem, { problemId, attempts: 2 });
  expect((seen[1]?.match(/```output/g) ?? []).length).toBe(1); // visiblePairs 1 from the record
  const used = await listProvenance(tdb.db, 'V');
  expect(used.map((u) => u.role).sort()).toEqual(['grader', 'student', 'teacher']);
  expect(used.find((u) => u.role === 'teacher')?.details).toEqual({ model: 'fake-teacher', endpointHost: 'llm.example:8000' });
  expect(used.find((u) => u.role === 'grader')?.details).toMatchObject({ memoryMb: 256, privilege: 'user', wallFactor: 3 });
});

test('a batch missing from Postgres is a non-retryable failure, not an endless retry', async () => {
  const err = await env
    .run(activitiesFor('teacher', { db: tdb.db, teacher: fakeLlm([GOOD]) }).proposeProblem, { ...propose, batchId: 'nope', turn: 1 })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as ApplicationFailure).message).toMatch(/batch nope is not in Postgres/);
});

test('the open-seed snapshot a batch run leaves for the next: written in chunks, paged back, trimmed, dropped', async () => {
  const books = createBookkeepingActivities({ db: tdb.db });
  const ids = Array.from({ length: 25 }, (_, i) => `o${String(i).padStart(2, '0')}`);
  await books.saveOpenSeeds({ batchId: 'A', runId: 'r1', seedIds: ids.slice(0, 5), first: true });
  await books.saveOpenSeeds({ batchId: 'A', runId: 'r2', seedIds: ids.slice(0, 10), first: true }); // drops r1's
  await books.saveOpenSeeds({ batchId: 'A', runId: 'r2', seedIds: ids.slice(10), first: false });
  await books.saveOpenSeeds({ batchId: 'A', runId: 'r2', seedIds: ids.slice(10), first: false }); // a retry changes nothing
  await books.dropOpenSeeds({ batchId: 'A', runId: 'r2', seedIds: ['o03'] });
  const read: string[] = [];
  for (let after = ''; ;) {
    const page = await books.loadOpenSeeds({ batchId: 'A', runId: 'r2', after, limit: 10 });
    read.push(...page);
    if (page.length < 10) break;
    after = page[page.length - 1] as string;
  }
  expect(read).toEqual(ids.filter((id) => id !== 'o03'));
  expect(await books.loadOpenSeeds({ batchId: 'A', runId: 'r1', after: '', limit: 10 })).toEqual([]);
  await books.clearOpenSeeds({ batchId: 'A' });
  expect(await books.loadOpenSeeds({ batchId: 'A', runId: 'r2', after: '', limit: 10 })).toEqual([]);
});

test('a protocol violation fails the attempt with a reason that says so, counted in batch status', async () => {
  const t = activitiesFor('teacher', { db: tdb.db, teacher: fakeLlm([GOOD]) });
  const { problemId } = await env.run(t.proposeProblem, { ...propose, turn: 7 });
  const g = activitiesFor('grader', { db: tdb.db, sandbox: fakeSandbox(), wallFactor: 3 });
  expect(await env.run(g.validateProblem, { problemId })).toEqual({ valid: true, reason: null });
  const answers = ['```python\ndef f(x):\n    return x * 3\n```', '```python\n# FORGE\ndef f(x):\n    return x * 3\n```'];
  const s = activitiesFor('student', { db: tdb.db, student: fakeLlm(answers) });
  expect(await env.run(s.attemptProblem, { problemId, attempts: 2 })).toBe(2);
  expect(await env.run(g.gradeAttempts, { problemId })).toMatchObject({ passed: 1, total: 2, passRate: 0.5 });
  const graded = await listGradedAttempts(tdb.db, problemId);
  const forged = graded.find((x) => x.grade.inputVerdicts[0] === 'protocol_violation');
  expect(forged?.grade.verdict).toBe('fail');
  expect(forged?.grade.failure).toMatch(/^protocol violation on input 1: the code wrote forged lines/);
  const summary = await batchSummary(tdb.db, 'A');
  expect(summary.grades.protocolViolations).toBe(1);
  expect(summary.grades.fail).toBeGreaterThanOrEqual(1);
  expect(formatSummary(summary)).toMatch(/of which 1 for a protocol violation: forged lines on the grader's channel/);
});
