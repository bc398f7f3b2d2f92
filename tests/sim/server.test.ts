/** The simulator's HTTP surface, through the real `openai` client (maxRetries 0). */
import OpenAI from 'openai';
import { chat, parseProblem, startSim, studentUser, teacherUser, type Harness } from './sim-helpers';

const SEED =
  'def running_max(xs):\n    best = None\n    for x in xs:\n        if best is None or x > best:\n            best = x\n    return best\n';
const teacherMsgs = chat(teacherUser(SEED, 'Write a new problem based on the seed.'));

let h: Harness;
beforeAll(async () => {
  h = await startSim({ seed: 5, malformedRate: 0 });
});
afterAll(async () => {
  await h.sim.close();
});

const admin = (path: string, init?: RequestInit): Promise<Response> => fetch(h.sim.url.replace(/\/v1$/, path), init);
const configure = (patch: Record<string, unknown>): Promise<Response> =>
  admin('/admin/config', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });

test('lists the teacher and student models', async () => {
  const ids = [];
  for await (const m of h.client.models.list()) ids.push(m.id);
  expect(ids.sort()).toEqual(['sim-student', 'sim-teacher']);
});

test('a teacher answer is an OpenAI chat completion with the fenced blocks', async () => {
  const res = await h.client.chat.completions.create({
    model: 'sim-teacher',
    messages: teacherMsgs,
    temperature: 1,
    reasoning_effort: 'high',
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  expect(res.object).toBe('chat.completion');
  expect(res.id).toMatch(/^chatcmpl-/);
  expect(res.model).toBe('sim-teacher');
  expect(res.choices).toHaveLength(1);
  expect(res.choices[0]?.finish_reason).toBe('stop');
  expect(res.choices[0]?.message.role).toBe('assistant');
  expect(res.usage?.prompt_tokens).toBeGreaterThan(10);
  expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0));
  const p = parseProblem(res.choices[0]?.message.content ?? '');
  expect(p.code).toMatch(/^def f\(/m);
  expect(p.inputs).toHaveLength(5);
  expect(p.message).toBeTruthy();
  expect(p.message).not.toContain('def f');
});

test('same request, same content; another request seed, another sample', async () => {
  const a = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs });
  const b = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs });
  expect(b.choices[0]?.message.content).toBe(a.choices[0]?.message.content);
  const seeds = await Promise.all(
    [1, 2, 3, 4].map((seed) => h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs, seed })),
  );
  expect(new Set(seeds.map((r) => r.choices[0]?.message.content)).size).toBeGreaterThan(1);
});

test('n = 8 gives 8 indexed choices that differ', async () => {
  const t = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs });
  const p = parseProblem(t.choices[0]?.message.content ?? '');
  const res = await h.client.chat.completions.create({
    model: 'sim-student',
    messages: chat(studentUser(p.message ?? '', [[p.inputs[0] ?? '', '0']])),
    n: 8,
  });
  expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  for (const c of res.choices) expect(c.message.content).toMatch(/```python\n[\s\S]*def f\(/);
  expect(new Set(res.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
});

test('an unknown model is a 404 with an OpenAI error body', async () => {
  const err = await h.client.chat.completions.create({ model: 'gpt-nonexistent', messages: teacherMsgs }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  const e = err as InstanceType<typeof OpenAI.NotFoundError>;
  expect(e.status).toBe(404);
  expect(e.code).toBe('model_not_found');
  expect(e.type).toBe('invalid_request_error');
});

test('n > 1 is a 400 when n support is off', async () => {
  expect((await configure({ nSupport: false })).status).toBe(200);
  try {
    const err = await h.client.chat.completions.create({ model: 'sim-student', messages: teacherMsgs, n: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const ok = await h.client.chat.completions.create({ model: 'sim-student', messages: teacherMsgs, n: 1 });
    expect(ok.choices).toHaveLength(1);
  } finally {
    await configure({ nSupport: true });
  }
});

test('endpoint quirks on demand: n limited (llama.cpp message) or silently capped, null content, context-length 400; samples served counted', async () => {
  await admin('/admin/stats', { method: 'DELETE' });
  const student = chat(studentUser('Add one.', [['1', '2']]));
  try {
    await configure({ nLimit: 2 });
    const limited = await h.client.chat.completions.create({ model: 'sim-student', messages: student, n: 3 }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.BadRequestError);
    expect((limited as Error).message).toMatch(/1 <= value <= 2/);
    await configure({ nLimit: 0, nCap: 2 });
    expect((await h.client.chat.completions.create({ model: 'sim-student', messages: student, n: 5 })).choices).toHaveLength(2);
    await configure({ nCap: 0, nullContentRate: 1 });
    const empty = await h.client.chat.completions.create({ model: 'sim-student', messages: student, n: 2 });
    expect(empty.choices.map((c) => [c.message.content, c.finish_reason])).toEqual([
      [null, 'content_filter'],
      [null, 'content_filter'],
    ]);
    await configure({ nullContentRate: 0, contextLimitChars: 20 });
    const long = await h.client.chat.completions.create({ model: 'sim-student', messages: student }).catch((e: unknown) => e);
    expect(long).toBeInstanceOf(OpenAI.BadRequestError);
    expect(long).toMatchObject({ code: 'context_length_exceeded' });
    expect((long as Error).message).toMatch(/maximum context length/);
    expect(h.sim.stats().samples.student).toBe(2); // only the capped answer's two choices had content
  } finally {
    await configure({ nLimit: 0, nCap: 0, nullContentRate: 0, contextLimitChars: 0 });
  }
});

test('429 with Retry-After at rate429 = 1; the admin change takes effect and shows in stats', async () => {
  await admin('/admin/stats', { method: 'DELETE' });
  expect((await configure({ rate429: 1, retryAfterS: 2 })).status).toBe(200);
  try {
    const err = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe('2');
  } finally {
    await configure({ rate429: 0, retryAfterS: 1 });
  }
  const cfg = (await (await admin('/admin/config')).json()) as Record<string, unknown>;
  expect(cfg.rate429).toBe(0);
  await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs });
  const stats = (await (await admin('/admin/stats')).json()) as { byRole: { teacher: Record<string, number> } };
  expect(stats.byRole.teacher).toEqual({ '200': 1, '429': 1 });
});

test('the admin endpoint rejects unknown settings and bad values', async () => {
  expect((await configure({ rate42: 1 })).status).toBe(400);
  expect((await configure({ skill: 2 })).status).toBe(400);
  expect((await configure({ reasoningStyle: 'loud' })).status).toBe(400);
});

test('5xx and connection resets come from the fault stream; a retry can succeed with the same content', async () => {
  const clean = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs });
  await configure({ rate5xx: 1 });
  const e5 = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs }).catch((e: unknown) => e);
  expect(e5).toBeInstanceOf(OpenAI.InternalServerError);
  await configure({ rate5xx: 0, resetRate: 1 });
  const reset = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs }).catch((e: unknown) => e);
  expect(reset).toBeInstanceOf(OpenAI.APIConnectionError);
  await configure({ resetRate: 0, rate429: 0.5 });
  try {
    let content: string | null = null;
    for (let i = 0; i < 40 && content === null; i++) {
      const r = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs }).catch(() => null);
      content = r?.choices[0]?.message.content ?? null;
    }
    expect(content).toBe(clean.choices[0]?.message.content);
  } finally {
    await configure({ rate429: 0 });
  }
});

test('maxConcurrent answers 429 beyond the limit', async () => {
  await configure({ maxConcurrent: 1, teacherLatencyMs: 300 });
  try {
    const results = await Promise.all(
      [0, 1, 2].map(() =>
        h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs }).then(
          () => 'ok',
          (e: unknown) => (e instanceof OpenAI.RateLimitError ? '429' : 'other'),
        ),
      ),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === '429')).toHaveLength(2);
  } finally {
    await configure({ maxConcurrent: 0, teacherLatencyMs: 0 });
  }
});

test('reasoning styles: <think> tags inline, or a separate reasoning_content field', async () => {
  await configure({ reasoningStyle: 'think_tags' });
  const inline = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs });
  const text = inline.choices[0]?.message.content ?? '';
  expect(text.startsWith('<think>')).toBe(true);
  // The reasoning holds a decoy python block; outside it the answer is intact.
  expect(parseProblem(text).code).toMatch(/^def f\(/m);
  await configure({ reasoningStyle: 'reasoning_content' });
  const sep = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs });
  const msg = sep.choices[0]?.message as unknown as { content: string; reasoning_content?: string };
  expect(msg.reasoning_content).toBeTruthy();
  expect(msg.content).not.toContain('<think>');
  await configure({ reasoningStyle: 'none' });
});

describe('with an API key', () => {
  let k: Harness;
  beforeAll(async () => {
    k = await startSim({ apiKey: 'sk-right' });
  });
  afterAll(async () => {
    await k.sim.close();
  });

  test('a wrong key is a 401; the right key works', async () => {
    const bad = new OpenAI({ baseURL: k.sim.url, apiKey: 'sk-wrong', maxRetries: 0 });
    const err = await bad.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    const ok = await k.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMsgs });
    expect(ok.choices).toHaveLength(1);
    expect(k.sim.stats().byRole.teacher).toEqual({ '200': 1, '401': 1 });
  });
});
