/**
 * The LLM client's per-sample accounting and error classification against the simulator over
 * HTTP, on a real Postgres: every sample paid once, whether the server takes `n`, caps it, limits
 * it or lacks it; 429s never discard a paid sample; refused requests are the turn's or the
 * problem's outcome, not a paused batch.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { APIError } from 'openai';
import { sql } from 'drizzle-orm';
import { activitiesFor } from '../../activities';
import { classifyLlmError } from '../../activities/llm/classify-error';
import { createLlmClient, type LlmClient, type LlmEndpoint, type LlmResult } from '../../activities/llm/llm-client';
import { SHORTFALL_ATTEMPTS } from '../../activities/llm/sample-outcome';
import { storePaid } from '../../activities/llm/sampler';
import type { ChatMessage } from '../../activities/environments/induction';
import { createSimServer, type SimServer } from '../../scripts/sim';
import { insertSeeds, upsertBatch } from '../../db/queries/batches';
import { getProblem, listAttempts } from '../../db/queries/problems';
import { ConfigError, loadConfig } from '../../workers/config/load-config';
import { ERR } from '../../workflows/contracts';
import { createTestDb, testSettings, type TestDb } from '../helpers/db';

let tdb: TestDb;
let sim: SimServer;
beforeAll(async () => {
  [tdb, sim] = await Promise.all([createTestDb('llmc'), createSimServer({ port: 0, seed: 7 })]);
  await upsertBatch(tdb.db, 'L', testSettings({ dedup: 'off', timeLimitMs: 1000 }));
  await insertSeeds(tdb.db, [
    { batchId: 'L', seedId: 'short', snippet: 'def g(x):\n    return x * 2' },
    { batchId: 'L', seedId: 'long', snippet: `def g(x):\n${'    x = x + 1  # padding to make the prompt long\n'.repeat(200)}    return x` },
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([tdb?.drop(), sim?.close()]);
});

let promptNo = 0;
/** A fresh student prompt (so no test reads another's cache). */
function studentPrompt(): ChatMessage[] {
  return [
    {
      role: 'user',
      content: `# Environment: deduction\n\n## Code\n\n\`\`\`python\ndef f(x):\n    return x + ${++promptNo}\n\`\`\`\n\n## Input\n\n\`\`\`input\n1\n\`\`\``,
    },
  ];
}

function client(o: Partial<LlmEndpoint> & { model?: string } = {}): LlmClient {
  return createLlmClient(tdb.db, 'student', {
    baseURL: sim.url,
    model: 'sim-student',
    apiKey: 'k',
    concurrency: 1,
    sampleConcurrency: 4,
    extraBody: {},
    useN: true,
    timeoutMs: 10_000,
    ...o,
  });
}

/** Calls until it succeeds, as Temporal's retries would (each failure must be retryable). */
async function untilDone(
  llm: LlmClient,
  messages: ChatMessage[],
  n: number,
  tries = 30,
): Promise<{ res: LlmResult; failures: ApplicationFailure[] }> {
  const failures: ApplicationFailure[] = [];
  for (let i = 0; i < tries; i++) {
    try {
      return { res: await llm.complete(messages, { n }), failures };
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || err.nonRetryable) throw err;
      failures.push(err);
    }
  }
  throw new Error(`no success after ${tries} tries`);
}

const count = async (q: string) => Number((await tdb.db.execute(sql.raw(q))).rows[0]?.n);

async function withSettings<T>(patch: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
  const before = { ...sim.settings } as Record<string, unknown>;
  delete before.apiKey;
  sim.configure(patch);
  try {
    return await fn();
  } finally {
    sim.configure(before);
  }
}

function freshStats() {
  const s = sim.stats();
  return () => {
    const now = sim.stats();
    return {
      samples: now.samples.student - s.samples.student,
      ok: (now.byRole.student['200'] ?? 0) - (s.byRole.student['200'] ?? 0),
      r429: (now.byRole.student['429'] ?? 0) - (s.byRole.student['429'] ?? 0),
    };
  };
}

test('no n, M = 16, 30% 429s: every sample paid once, retries ask only for the missing ones, Retry-After honoured', async () => {
  await withSettings({ rate429: 0.3, retryAfterS: 2 }, async () => {
    const delta = freshStats();
    const msgs = studentPrompt();
    const { res, failures } = await untilDone(client({ useN: false }), msgs, 16);
    expect(res.choices).toHaveLength(16);
    expect(new Set(res.callIds).size).toBe(16);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((f) => f.type === ERR.rateLimited && f.nextRetryDelay === 2000)).toBe(true);
    const d = delta();
    expect(d.r429).toBeGreaterThan(0);
    expect(d.samples).toBe(16); // paid = kept
    expect(d.ok).toBe(16);
    // A retried activity pays nothing: all 16 from the cache.
    const again = await client({ useN: false }).complete(msgs, { n: 16 });
    expect(again).toEqual({ ...res, cached: true });
    expect(delta().samples).toBe(16);
  });
});

test('n lacking (400), limited (llama.cpp style) or silently capped: asks in fitting groups and tops up, samples distinct', async () => {
  for (const patch of [{ nSupport: false }, { nLimit: 3 }, { nCap: 3 }]) {
    await withSettings(patch, async () => {
      const delta = freshStats();
      const { res } = await untilDone(client({ useN: true }), studentPrompt(), 8);
      expect(res.choices).toHaveLength(8);
      expect(new Set(res.choices).size).toBeGreaterThan(1);
      expect(delta().samples).toBe(8);
    });
  }
});

test('null content is fetched again, never kept as an answer; nothing with content is paid twice', async () => {
  await withSettings({ nullContentRate: 0.4 }, async () => {
    const delta = freshStats();
    const { res } = await untilDone(client({ useN: true }), studentPrompt(), 8);
    expect(res.choices).toHaveLength(8);
    expect(res.choices.every((c) => typeof c === 'string' && c.length > 0)).toBe(true);
    expect(delta().samples).toBe(8);
  });
});

test('errors by whose fault: request wrong, endpoint wrong, transient', async () => {
  const what = { role: 'student', model: 'm', baseURL: 'http://x/v1' };
  const e = (status: number, message: string, headers: Record<string, string> = {}) =>
    classifyLlmError(APIError.generate(status, { message }, message, new Headers(headers)), what);
  for (const s of [400, 413, 422])
    expect(e(s, 'maximum context length is 8192 tokens')).toMatchObject({
      fault: 'request',
      failure: { type: ERR.llmRequestInvalid, nonRetryable: true },
    });
  for (const s of [401, 403, 404])
    expect(e(s, 'nope')).toMatchObject({ fault: 'endpoint', failure: { type: ERR.llmRejected, nonRetryable: true } });
  expect(e(400, 'The model `x` does not exist')).toMatchObject({ fault: 'endpoint' });
  for (const s of [408, 409, 500, 502]) expect(e(s, 'later')).toMatchObject({ fault: 'transient', failure: { nonRetryable: false } });
  expect(e(503, 'busy', { 'retry-after': '7' }).failure.nextRetryDelay).toBe(7000);
  expect(e(429, 'slow down', { 'retry-after-ms': '1500' }).failure).toMatchObject({ type: ERR.rateLimited, nextRetryDelay: 1500 });

  const err = await client({ model: 'no-such-model' })
    .complete(studentPrompt(), { n: 2 })
    .catch((x: unknown) => x);
  expect(err).toMatchObject({ type: ERR.llmRejected, nonRetryable: true });
  await withSettings({ contextLimitChars: 50 }, async () => {
    const refused = await client()
      .complete(studentPrompt(), { n: 2 })
      .catch((x: unknown) => x);
    expect(refused).toMatchObject({ type: ERR.llmRequestInvalid, nonRetryable: true });
    expect((refused as Error).message).toMatch(/maximum context length/);
  });
});

test('the cache key holds the endpoint host; reserved extra-body keys are refused', async () => {
  const msgs = studentPrompt();
  const delta = freshStats();
  await client().complete(msgs, { n: 2 });
  await client({ baseURL: sim.url.replace('127.0.0.1', 'localhost') }).complete(msgs, { n: 2 });
  await client({ extraBody: { temperature: 0.5 } }).complete(msgs, { n: 2 });
  await client().complete(msgs, { n: 2 });
  expect(delta().samples).toBe(6);
  for (const k of ['n', 'seed', 'model', 'messages']) {
    expect(() => loadConfig({ CAIRN_STUDENT_EXTRA_BODY: JSON.stringify({ [k]: 1, temperature: 1 }) })).toThrow(ConfigError);
  }
  expect(() => loadConfig({ CAIRN_TEACHER_EXTRA_BODY: '{"seed":1}' })).toThrow(/CAIRN_TEACHER_EXTRA_BODY sets "seed"/);
  expect(loadConfig({ CAIRN_TEACHER_EXTRA_BODY: '{"reasoning_effort":"high"}' }).teacher.extraBody).toEqual({ reasoning_effort: 'high' });
});

const GOOD = [
  '```python\ndef f(x):\n    return x * 3\n```',
  ...['1', '2', '3', '4', '5'].map((i) => '```input\n' + i + '\n```'),
  '```message\nTriple it.\n```',
].join('\n');
const fakeTeacher: LlmClient = {
  role: 'teacher',
  model: 'fake',
  complete: async (_m, o) => ({ callId: 0, callIds: [0], choices: Array.from({ length: o.n }, () => GOOD), cached: false }),
};
const fakeSandbox = {
  async run(req: { inputs: string[] }) {
    return { sandboxes: 1, outcomes: req.inputs.map((i) => ({ status: 'ok' as const, out: String(Number(i) * 3), cpuMs: 1, wallMs: 1 })) };
  },
  async close() {
    /* nothing */
  },
};
/** MockActivityEnvironment.run, keeping the activity's own types. */
function run<A extends unknown[], R>(
  info: ConstructorParameters<typeof MockActivityEnvironment>[0],
  fn: (...a: A) => Promise<R>,
  ...args: A
): Promise<R> {
  return new MockActivityEnvironment(info).run(fn, ...args) as Promise<R>;
}
const propose = { batchId: 'L', env: 'induction' as const, instruction: 'initial' as const, prevProblemId: null };

test('a context-length 400 makes that teacher turn invalid with the reason; other seeds are served', async () => {
  await withSettings({ contextLimitChars: 6000 }, async () => {
    const t = activitiesFor('teacher', {
      db: tdb.db,
      teacher: createLlmClient(tdb.db, 'teacher', {
        baseURL: sim.url,
        model: 'sim-teacher',
        apiKey: 'k',
        concurrency: 1,
        sampleConcurrency: 1,
        extraBody: {},
        useN: true,
        timeoutMs: 10_000,
      }),
    });
    const long = await run({}, t.proposeProblem, { ...propose, seedId: 'long', turn: 1 });
    expect(long.parsed).toBe(false);
    const p = await getProblem(tdb.db, long.problemId);
    expect(p.status).toBe('invalid');
    expect(p.invalidReason).toMatch(/refused this request with 400.*maximum context length/);
    const short = await run({}, t.proposeProblem, { ...propose, seedId: 'short', turn: 1 });
    expect((await getProblem(tdb.db, short.problemId)).status).not.toBe('invalid');
  });
});

test('student samples that do not come: the problem fails with the reason, never graded, never a student failure', async () => {
  const setup = async (turn: number) => {
    const { problemId } = await run({}, activitiesFor('teacher', { db: tdb.db, teacher: fakeTeacher }).proposeProblem, {
      ...propose,
      seedId: 'short',
      turn,
    });
    await run({}, activitiesFor('grader', { db: tdb.db, sandbox: fakeSandbox }).validateProblem, { problemId });
    return problemId;
  };
  const student = activitiesFor('student', { db: tdb.db, student: client() });
  // Refused (request wrong): failed at once.
  const refused = await setup(11);
  await withSettings({ contextLimitChars: 10 }, async () => {
    expect(await run({}, student.attemptProblem, { problemId: refused, attempts: 4 })).toBe(0);
  });
  expect(await getProblem(tdb.db, refused)).toMatchObject({
    status: 'failed',
    passRate: null,
    invalidReason: expect.stringMatching(/not counted as student failures.*maximum context length/),
  });
  expect(await listAttempts(tdb.db, refused)).toHaveLength(0);
  // No content at all: retried (a retryable shortfall), then failed on the last allowed attempt.
  const empty = await setup(12);
  await withSettings({ nullContentRate: 1 }, async () => {
    const first = await run({ attempt: 1 }, student.attemptProblem, { problemId: empty, attempts: 4 }).catch((x: unknown) => x);
    expect(first).toMatchObject({ type: ERR.llmShortfall, nonRetryable: false });
    expect(await run({ attempt: SHORTFALL_ATTEMPTS }, student.attemptProblem, { problemId: empty, attempts: 4 })).toBe(0);
  });
  expect(await getProblem(tdb.db, empty)).toMatchObject({
    status: 'failed',
    invalidReason: expect.stringMatching(/answered 0 of 4 samples/),
  });
  expect(await count(`select count(*) n from attempts where problem_id = ${empty}`)).toBe(0);
});

test('each attempt is its own cached sample: text stored once (in llm_calls), a retried activity pays nothing', async () => {
  const { problemId } = await run({}, activitiesFor('teacher', { db: tdb.db, teacher: fakeTeacher }).proposeProblem, {
    ...propose,
    seedId: 'short',
    turn: 21,
  });
  await run({}, activitiesFor('grader', { db: tdb.db, sandbox: fakeSandbox }).validateProblem, { problemId });
  const student = activitiesFor('student', { db: tdb.db, student: client({ useN: false }) });
  const delta = freshStats();
  expect(await run({}, student.attemptProblem, { problemId, attempts: 6 })).toBe(6);
  expect(await run({}, student.attemptProblem, { problemId, attempts: 6 })).toBe(6);
  expect(delta().samples).toBe(6);
  const rows = (
    await tdb.db.execute(
      sql.raw(
        `select a.completion, c.sample, c.choices->>0 as text from attempts a join llm_calls c on c.id = a.llm_call_id where a.problem_id = ${problemId} order by a.idx`,
      ),
    )
  ).rows as { completion: string | null; sample: number; text: string }[];
  expect(rows.map((r) => r.sample)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(rows.every((r) => r.completion === null && r.text.length > 0)).toBe(true);
});

test('a paid sample waits out a database outage instead of failing (its retry would pay again); past the patience it fails', async () => {
  let failures = 2;
  const flaky = new Proxy(tdb.db, {
    get(target, prop, recv) {
      if (prop === 'insert' && failures-- > 0)
        return () => {
          throw new Error('Connection terminated unexpectedly');
        };
      return Reflect.get(target, prop, recv);
    },
  });
  const waits: number[] = [];
  const sleep = async (ms: number) => void waits.push(ms);
  const hash = `outage-${Date.now()}`;
  const row = {
    requestHash: hash,
    requestKey: hash,
    sample: 0,
    role: 'student',
    model: 'm',
    request: { messages: [], params: {} },
    choices: ['x'],
    promptTokens: 1,
    completionTokens: 1,
    latencyMs: 1,
  };
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const stored = await storePaid({ db: flaky, role: 'student', sleep }, row);
  expect(waits).toEqual([200, 400]);
  expect(stored.requestHash).toBe(hash);
  expect(await count(`select count(*) n from llm_calls where request_hash = '${hash}'`)).toBe(1);

  failures = 1_000;
  await expect(storePaid({ db: flaky, role: 'student', sleep, patienceMs: 0 }, { ...row, requestHash: `${hash}-b` })).rejects.toThrow(
    /Connection terminated/,
  );
  warn.mockRestore();
});

test('student answers cut at max tokens are left out of the pass rate (default), or count as failures with --truncated fail', async () => {
  const stored = async (text: string, finishReason: string) =>
    storePaid(
      { db: tdb.db, role: 'student' },
      {
        requestHash: `cut-${++promptNo}-${Date.now()}`,
        requestKey: 'k',
        sample: 0,
        role: 'student',
        model: 'm',
        request: { messages: [], params: {} },
        choices: [text],
        finishReason,
        promptTokens: 1,
        completionTokens: 1,
        latencyMs: 1,
      },
    );
  const good = '```python\ndef f(x):\n    return x * 3\n```';
  const gradeWith = async (batchId: string) => {
    await upsertBatch(
      tdb.db,
      batchId,
      testSettings({ dedup: 'off', timeLimitMs: 1000, ...(batchId.endsWith('fail') ? { truncated: 'fail' } : {}) }),
    );
    await insertSeeds(tdb.db, [{ batchId, seedId: 'short', snippet: 'def g(x):\n    return x * 2' }]);
    const { problemId } = await run({}, activitiesFor('teacher', { db: tdb.db, teacher: fakeTeacher }).proposeProblem, {
      ...propose,
      batchId,
      seedId: 'short',
      turn: 1,
    });
    await run({}, activitiesFor('grader', { db: tdb.db, sandbox: fakeSandbox }).validateProblem, { problemId });
    // Sample 0 is whole and right; 1 is right; 2 and 3 were cut mid-answer (no code block came).
    const rows = [
      await stored(good, 'stop'),
      await stored(good, 'stop'),
      await stored('```python\ndef f(x):\n    ret', 'length'),
      await stored('Let me', 'length'),
    ];
    const student: LlmClient = {
      role: 'student',
      model: 'm',
      complete: async () => ({
        callId: rows[0]?.id ?? 0,
        callIds: rows.map((r) => r.id),
        choices: rows.map((r) => r.choices[0] ?? ''),
        cached: true,
      }),
    };
    await run({}, activitiesFor('student', { db: tdb.db, student }).attemptProblem, { problemId, attempts: 4 });
    return run({}, activitiesFor('grader', { db: tdb.db, sandbox: fakeSandbox }).gradeAttempts, { problemId });
  };
  expect(await gradeWith('cut-exclude')).toMatchObject({ passed: 2, total: 2, passRate: 1 });
  expect(await gradeWith('cut-fail')).toMatchObject({ passed: 2, total: 4, passRate: 0.5 });
  expect(() => testSettings({ truncated: 'drop' })).toThrow(/--truncated drop: choose exclude/);
});
