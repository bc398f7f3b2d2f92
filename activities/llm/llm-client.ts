/**
 * One LLM call, paid at most once: requests are content-addressed (model + messages + params),
 * answers cached in Postgres before the activity returns, so a retried or resumed activity reads
 * the cache instead of paying again.
 */
import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import type { Database } from '../../db/client';
import { countCacheHit, findLlmCall, insertLlmCall } from '../../db/queries/llm';
import type { ChatMessage } from '../environments/induction';
import { classifyLlmError } from './classify-error';
import { endpointHost } from '../usage-recorder';

/** What the client needs of an endpoint (built from the worker's config). */
export interface LlmEndpoint {
  baseURL: string;
  model: string;
  /** Secret: held by the worker only. */
  apiKey: string;
  /** Concurrent requests per worker process (worker activity slots). */
  concurrency: number;
  /** Extra request body fields, e.g. {"reasoning_effort":"high"} for the paper's preset. */
  extraBody: Record<string, unknown>;
  /** Whether to ask for M samples with one `n = M` request (else M parallel requests). */
  useN: boolean;
  timeoutMs: number;
}

export interface LlmResult { callId: number; choices: string[]; cached: boolean }

export interface LlmClient {
  readonly role: string;
  readonly model: string;
  /** What this client sends to (recorded per batch by the activities): model, endpoint host, sampling extras. Never the key. */
  readonly provenance?: Record<string, unknown>;
  /** `n` samples of the same request; `sample` separates otherwise identical requests (sent as `seed`). */
  complete(messages: ChatMessage[], opts: { n: number; signal?: AbortSignal; sample?: number }): Promise<LlmResult>;
}

export function requestHash(model: string, messages: ChatMessage[], params: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify({ model, messages, params })).digest('hex');
}

export function createLlmClient(db: Database, role: string, ep: LlmEndpoint): LlmClient {
  // maxRetries 0: Temporal owns retries (with Retry-After); stacking both multiplies attempts.
  const openai = new OpenAI({ baseURL: ep.baseURL, apiKey: ep.apiKey, maxRetries: 0, timeout: ep.timeoutMs });
  const what = { role, model: ep.model, baseURL: ep.baseURL };

  async function one(messages: ChatMessage[], n: number, seed: number | undefined, signal?: AbortSignal) {
    try {
      const body = { model: ep.model, messages, n, ...(seed === undefined ? {} : { seed }), ...ep.extraBody };
      const res = await openai.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming, { signal });
      const choices = [...res.choices].sort((a, b) => a.index - b.index).map((c) => c.message?.content ?? '');
      return { choices, promptTokens: res.usage?.prompt_tokens ?? 0, completionTokens: res.usage?.completion_tokens ?? 0 };
    } catch (err) {
      throw classifyLlmError(err, what);
    }
  }

  return {
    role,
    model: ep.model,
    provenance: { model: ep.model, endpointHost: endpointHost(ep.baseURL), useN: ep.useN, extraBody: ep.extraBody },
    async complete(messages, { n, signal, sample }) {
      const params = { n, useN: ep.useN, ...(sample === undefined ? {} : { sample }), ...ep.extraBody };
      const hash = requestHash(ep.model, messages, params);
      const hit = await findLlmCall(db, hash);
      if (hit) {
        await countCacheHit(db, hit.id);
        return { callId: hit.id, choices: hit.choices, cached: true };
      }
      const started = Date.now();
      let out: { choices: string[]; promptTokens: number; completionTokens: number };
      // `seed` tells otherwise identical requests apart (a server with a fixed seed would repeat itself).
      const base = sample === undefined ? 0 : sample * 1000;
      if (ep.useN || n === 1) {
        out = await one(messages, n, sample === undefined ? undefined : base, signal);
      } else {
        // Server without `n`: n parallel requests, told apart by `seed` so they are real samples.
        const parts = await Promise.all(Array.from({ length: n }, (_, i) => one(messages, 1, base + i, signal)));
        out = {
          choices: parts.flatMap((p) => p.choices),
          promptTokens: parts.reduce((s, p) => s + p.promptTokens, 0),
          completionTokens: parts.reduce((s, p) => s + p.completionTokens, 0),
        };
      }
      const row = await insertLlmCall(db, {
        requestHash: hash, role, model: ep.model, request: { messages, params }, choices: out.choices,
        promptTokens: out.promptTokens, completionTokens: out.completionTokens, latencyMs: Date.now() - started,
      });
      return { callId: row.id, choices: row.choices, cached: false };
    },
  };
}
