/**
 * Streaming, finish reasons, reasoning and generation controls, against a tiny fake
 * OpenAI-compatible server over HTTP (the simulator does not stream) on a real Postgres: chunks are
 * joined per choice, `finish_reason` and `reasoning_content` are stored per sample, usage comes
 * from the last chunk, a stalled stream is cut after the idle timeout (not the request timeout),
 * and a request that keeps timing out is recorded failed on its 4th activity attempt.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'drizzle-orm';
import { TIMED_OUT } from '../../activities/llm/classify-error';
import { createLlmClient, servedRevision, type LlmEndpoint } from '../../activities/llm/llm-client';
import { saltSeed } from '../../activities/llm/sample-key';
import { inlineReasoning } from '../../activities/llm/sampler';
import OpenAI from 'openai';
import { sampleOrReason, TIMEOUT_ATTEMPTS } from '../../activities/llm/sample-outcome';
import { ConfigError, loadConfig } from '../../workers/config/load-config';
import { ERR } from '../../workflows/contracts';
import { createTestDb, type TestDb } from '../helpers/db';

let tdb: TestDb;
let server: http.Server;
let url = '';
const bodies: Record<string, unknown>[] = [];
/** What the fake server's /v1/models reports of the weights (`created` and `n_ctx` change every call, and are ignored). */
let meta: Record<string, unknown> = { n_params: 135, ftype: 'Q4_1' };

function sse(res: http.ServerResponse, chunk: unknown): void {
  res.write(`data: ${JSON.stringify(chunk)}\n\n`);
}

beforeAll(async () => {
  tdb = await createTestDb('llmstream');
  server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url?.endsWith('/models')) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          object: 'list',
          data: [{ id: 'm', object: 'model', created: Date.now(), owned_by: 'x', meta: { ...meta, n_ctx: Date.now() } }],
        }),
      );
      return;
    }
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { stream?: boolean; messages: { content: string }[] };
      bodies.push(body);
      const base = { id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm' };
      if (!body.stream) {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            ...base,
            object: 'chat.completion',
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'plain', reasoning_content: 'why' } }],
            usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      sse(res, { ...base, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] });
      if (body.messages[0]?.content.includes('STALL')) return; // never another byte
      sse(res, { ...base, choices: [{ index: 0, delta: { reasoning_content: 'think ' }, finish_reason: null }] });
      sse(res, { ...base, choices: [{ index: 0, delta: { reasoning_content: 'hard' }, finish_reason: null }] });
      sse(res, { ...base, choices: [{ index: 0, delta: { content: 'hel' }, finish_reason: null }] });
      sse(res, { ...base, choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: 'length' }] });
      sse(res, { ...base, choices: [], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } });
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}, 60_000);
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await tdb?.drop();
});

function ep(o: Partial<LlmEndpoint> = {}): LlmEndpoint {
  return {
    baseURL: url,
    model: 'm',
    apiKey: 'k',
    concurrency: 1,
    sampleConcurrency: 1,
    extraBody: {},
    useN: false,
    timeoutMs: 10_000,
    ...o,
  };
}

async function row(id: number) {
  const r = await tdb.db.execute<{
    finish_reason: string | null;
    reasoning: string | null;
    completion_tokens: number;
    prompt_tokens: number;
  }>(sql`select finish_reason, reasoning, completion_tokens, prompt_tokens from llm_calls where id = ${id}`);
  return r.rows[0];
}

test('a streamed answer: chunks joined, finish reason and reasoning stored, usage from the last chunk, controls sent', async () => {
  const llm = createLlmClient(tdb.db, 'student', ep({ stream: true, generation: { max_tokens: 5, temperature: 0.2 } }));
  const res = await llm.complete([{ role: 'user', content: 'stream please' }], { n: 1 });
  expect(res.choices).toEqual(['hello']);
  expect(await row(res.callId)).toEqual({ finish_reason: 'length', reasoning: 'think hard', completion_tokens: 7, prompt_tokens: 11 });
  expect(bodies[bodies.length - 1]).toMatchObject({
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 5,
    temperature: 0.2,
  });
  expect(llm.provenance).toMatchObject({ generation: { max_tokens: 5, temperature: 0.2 }, stream: true });
  // The controls are in the cache key: another max_tokens is another request.
  const other = createLlmClient(tdb.db, 'student', ep({ stream: true, generation: { max_tokens: 6 } }));
  expect((await other.complete([{ role: 'user', content: 'stream please' }], { n: 1 })).cached).toBe(false);
  expect((await llm.complete([{ role: 'user', content: 'stream please' }], { n: 1 })).cached).toBe(true);
});

test('an unstreamed answer keeps its finish reason and reasoning_content too', async () => {
  const res = await createLlmClient(tdb.db, 'teacher', ep()).complete([{ role: 'user', content: 'plain please' }], { n: 1 });
  expect(res.choices).toEqual(['plain']);
  expect(await row(res.callId)).toMatchObject({ finish_reason: 'stop', reasoning: 'why' });
});

test('a stalled stream is cut after the idle timeout, and on the 4th attempt the request is recorded failed', async () => {
  const llm = createLlmClient(tdb.db, 'student', ep({ stream: true, idleTimeoutMs: 1000, timeoutMs: 60_000 }));
  const stalled = [{ role: 'user' as const, content: 'STALL' }];
  const t0 = Date.now();
  const err = await llm.complete(stalled, { n: 1 }).catch((e: unknown) => e);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type: ERR.llmUnavailable, nonRetryable: false, details: [TIMED_OUT] });
  expect((err as Error).message).toMatch(/timed out: the stream sent nothing for 1 s \(idle timeout\)/);
  // Attempts before the 4th: retried (rethrown); the 4th: a recorded reason.
  const attempt = (n: number) =>
    new MockActivityEnvironment({ attempt: n }).run(() => sampleOrReason(() => llm.complete(stalled, { n: 1 }))) as Promise<unknown>;
  await expect(attempt(TIMEOUT_ATTEMPTS - 1)).rejects.toMatchObject({ type: ERR.llmUnavailable });
  expect(await attempt(TIMEOUT_ATTEMPTS)).toEqual({ reason: expect.stringMatching(/idle timeout.*given up after 4 attempts/) });
}, 30_000);

test('generation controls from the environment; bad values and doubles are refused with the variable named', () => {
  const c = loadConfig({
    CAIRN_TEACHER_MAX_TOKENS: '2048',
    CAIRN_TEACHER_TEMPERATURE: '0.7',
    CAIRN_TEACHER_TOP_P: '0.95',
    CAIRN_TEACHER_REASONING_EFFORT: 'high',
    CAIRN_TEACHER_STOP: '["</answer>"]',
    CAIRN_TEACHER_STREAM: '1',
    CAIRN_TEACHER_STRUCTURED: 'json_schema',
  });
  expect(c.teacher.generation).toEqual({ max_tokens: 2048, temperature: 0.7, top_p: 0.95, reasoning_effort: 'high', stop: ['</answer>'] });
  expect(c.teacher).toMatchObject({ stream: true, structured: 'json_schema', idleTimeoutMs: 120_000 });
  expect(c.student.generation).toEqual({});
  expect(() => loadConfig({ CAIRN_STUDENT_TEMPERATURE: '3' })).toThrow(/CAIRN_STUDENT_TEMPERATURE=3 is not a number in \[0, 2\]/);
  expect(() => loadConfig({ CAIRN_STUDENT_MAX_TOKENS: '0' })).toThrow(/CAIRN_STUDENT_MAX_TOKENS=0/);
  expect(() => loadConfig({ CAIRN_TEACHER_STOP: '"x"' })).toThrow(/JSON list of 1 to 4/);
  expect(() => loadConfig({ CAIRN_TEACHER_MAX_TOKENS: '9', CAIRN_TEACHER_EXTRA_BODY: '{"max_tokens":9}' })).toThrow(
    /EXTRA_BODY sets "max_tokens", which CAIRN_TEACHER_MAX_TOKENS also sets/,
  );
  expect(() => loadConfig({ CAIRN_STUDENT_STRUCTURED: 'json_schema' })).toThrow(ConfigError);
  expect(() => loadConfig({ CAIRN_TEACHER_STRUCTURED: 'grammar' })).toThrow(/not off or json_schema/);
});

test('the cache key holds the served revision: set, or read from /v1/models; a salt samples afresh with another seed', async () => {
  const msgs = [{ role: 'user' as const, content: 'revision please' }];
  const openai = new OpenAI({ baseURL: url, apiKey: 'k', maxRetries: 0 });
  const first = await servedRevision(openai, 'm');
  expect(first).toMatch(/^models:[0-9a-f]{16}$/);
  expect(await servedRevision(openai, 'm')).toBe(first); // created and n_ctx are not the weights
  expect(await servedRevision(openai, 'other')).toBeUndefined();
  expect((await createLlmClient(tdb.db, 'student', ep()).complete(msgs, { n: 1 })).cached).toBe(false);
  expect((await createLlmClient(tdb.db, 'student', ep()).complete(msgs, { n: 1 })).cached).toBe(true);
  meta = { n_params: 135, ftype: 'Q8_0' }; // another checkpoint under the same name
  expect((await createLlmClient(tdb.db, 'student', ep()).complete(msgs, { n: 1 })).cached).toBe(false);
  // An explicit revision wins over what the server says.
  expect((await createLlmClient(tdb.db, 'student', ep({ revision: 'ckpt-1' })).complete(msgs, { n: 1 })).cached).toBe(false);
  expect((await createLlmClient(tdb.db, 'student', ep({ revision: 'ckpt-1' })).complete(msgs, { n: 1 })).cached).toBe(true);
  expect((await createLlmClient(tdb.db, 'student', ep({ revision: 'ckpt-2' })).complete(msgs, { n: 1 })).cached).toBe(false);
  // A salt: a fresh request (and seed) for the same messages; the same salt again is cached.
  const llm = createLlmClient(tdb.db, 'student', ep({ revision: 'ckpt-1' }));
  expect((await llm.complete(msgs, { n: 1, salt: 'again-1' })).cached).toBe(false);
  expect(bodies[bodies.length - 1]).toMatchObject({ seed: saltSeed('again-1') });
  expect((await llm.complete(msgs, { n: 1, salt: 'again-1' })).cached).toBe(true);
  expect((await llm.complete(msgs, { n: 1, salt: 'again-2' })).cached).toBe(false);
  expect(loadConfig({ CAIRN_TEACHER_MODEL_REVISION: 'abc' }).teacher.revision).toBe('abc');
});

test("inline reasoning (<think>) is stored as the sample's reasoning too", () => {
  expect(inlineReasoning('<think> a </think>answer<think>b')).toBe('a\n\nb');
  expect(inlineReasoning('no reasoning')).toBeNull();
});
