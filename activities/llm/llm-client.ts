/**
 * LLM samples, each paid at most once: a request of M samples is M cached rows, each under its own
 * key (endpoint host + model + messages + sampling params, then the sample index). The client asks
 * only for the samples it lacks, stores each one as soon as it arrives, and tops up when fewer
 * choices come back than were asked for, so a 429 on one sample never discards another that was
 * paid for, and a retried or resumed activity pays nothing twice.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import type { Database } from '../../db/client';
import { countCacheHits, findLlmCalls } from '../../db/queries/llm';
import { ERR } from '../../workflows/contracts';
import type { ChatMessage } from '../environments/induction';
import { llmCacheHits } from '../cairn-metrics';
import { endpointHost } from '../usage-recorder';
import { requestKey, sampleHash } from './sample-key';
import { fetchSamples, type SamplerState } from './sampler';

/** What the client needs of an endpoint (built from the worker's config). */
export interface LlmEndpoint {
  baseURL: string;
  model: string;
  /** Secret: held by the worker only. */
  apiKey: string;
  /** Concurrent LLM activities per worker process (worker activity slots). */
  concurrency: number;
  /** Requests in flight per activity when the samples go out separately (no `n`, or `n` capped). */
  sampleConcurrency: number;
  /** Extra request body fields, e.g. {"reasoning_effort":"high"}; never `n`, `seed`, `model`, `messages`. */
  extraBody: Record<string, unknown>;
  /** Generation controls (max_tokens, temperature, top_p, reasoning_effort, stop): sent with every request, part of the cache key. */
  generation?: Record<string, unknown>;
  /** Whether to ask for M samples with one `n = M` request (else one request per sample). */
  useN: boolean;
  timeoutMs: number;
  /** Stream answers (servers that support it): heartbeats as chunks arrive, and the idle cut below. */
  stream?: boolean;
  /** A stream that sends nothing for this long is cut (transient; retried). */
  idleTimeoutMs?: number;
  /** Ask for answers under a JSON schema (teacher only). */
  structured?: 'off' | 'json_schema';
  /**
   * The served checkpoint (CAIRN_<ROLE>_MODEL_REVISION), part of the cache key. Unset: read once
   * from the server's /v1/models entry for the model (the fields that describe the weights), when
   * it reports any.
   */
  revision?: string;
}

export interface LlmResult {
  /** The first sample's row (the teacher's one sample). */
  callId: number;
  /** One llm_calls row per choice, in sample order. */
  callIds: number[];
  choices: string[];
  /** Every sample came from the cache. */
  cached: boolean;
}

export interface LlmClient {
  readonly role: string;
  readonly model: string;
  /** What this client sends to (recorded per batch by the activities): model, endpoint host, sampling extras. Never the key. */
  readonly provenance?: Record<string, unknown>;
  /** CAIRN_<ROLE>_STRUCTURED: ask for answers under a JSON schema (the caller supplies it as `responseFormat`). */
  readonly structured?: 'off' | 'json_schema';
  /**
   * `n` samples of the same request; `sample` separates otherwise identical requests (their sample
   * indices start at sample x 1000); `responseFormat` is sent (and keyed) as `response_format`.
   */
  complete(
    messages: ChatMessage[],
    opts: { n: number; signal?: AbortSignal; sample?: number; responseFormat?: Record<string, unknown>; salt?: string },
  ): Promise<LlmResult>;
}

export { requestKey, sampleHash } from './sample-key';

/** Fields of a /v1/models entry that describe the served weights (not `created`, which servers set to the request time, nor the context the server allots). */
const WEIGHT_FIELDS = ['root', 'parent', 'meta', 'max_model_len'];

/**
 * The served checkpoint as the server reports it: a hash of the model entry's weight-describing
 * fields (vLLM: root, parent, max_model_len; llama.cpp: meta with n_params, size, ftype...);
 * undefined when the server reports none or /v1/models fails (the key then has no revision).
 */
export async function servedRevision(openai: OpenAI, model: string): Promise<string | undefined> {
  try {
    const page = await openai.models.list();
    const entry = page.data.find((m) => m.id === model) as unknown as Record<string, unknown> | undefined;
    if (!entry) return undefined;
    const picked: Record<string, unknown> = {};
    for (const k of WEIGHT_FIELDS) {
      const v = entry[k];
      if (v === undefined || v === null) continue;
      if (k === 'meta' && typeof v === 'object') {
        const { n_ctx: _ctx, ...rest } = v as Record<string, unknown>;
        picked[k] = rest;
      } else picked[k] = v;
    }
    if (Object.keys(picked).length === 0) return undefined;
    return `models:${createHash('sha256').update(JSON.stringify(picked)).digest('hex').slice(0, 16)}`;
  } catch {
    return undefined;
  }
}

/** Rounds without an error that may still come back short (null content, capped `n`) before the activity gives up for now. */
const TOP_UP_ROUNDS = 4;

export function createLlmClient(db: Database, role: string, ep: LlmEndpoint): LlmClient {
  // maxRetries 0: Temporal owns retries (with Retry-After); stacking both multiplies attempts.
  const openai = new OpenAI({ baseURL: ep.baseURL, apiKey: ep.apiKey, maxRetries: 0, timeout: ep.timeoutMs });
  const host = endpointHost(ep.baseURL);
  // Learned per worker process: lowered when the server refuses or caps `n`.
  const state: SamplerState = { nCap: ep.useN ? Number.POSITIVE_INFINITY : 1 };
  let revision: Promise<string | undefined> | undefined;
  const revisionOf = () => (revision ??= ep.revision ? Promise.resolve(ep.revision) : servedRevision(openai, ep.model));

  return {
    role,
    model: ep.model,
    structured: ep.structured ?? 'off',
    provenance: {
      model: ep.model,
      endpointHost: host,
      useN: ep.useN,
      extraBody: ep.extraBody,
      generation: ep.generation ?? {},
      timeoutMs: ep.timeoutMs,
      stream: ep.stream ?? false,
      structured: ep.structured ?? 'off',
      ...(ep.revision ? { revision: ep.revision } : {}),
    },
    async complete(messages, { n, signal, sample, responseFormat, salt }) {
      const params = { ...ep.extraBody, ...ep.generation, ...(responseFormat ? { response_format: responseFormat } : {}) };
      const key = requestKey(host, ep.model, messages, params, { revision: await revisionOf(), salt });
      const first = (sample ?? 0) * 1000;
      const indices = Array.from({ length: n }, (_, i) => first + i);
      const rows = new Map(
        (
          await findLlmCalls(
            db,
            indices.map((i) => sampleHash(key, i)),
          )
        ).map((r) => [r.sample ?? -1, r]),
      );
      const hits = [...rows.values()].filter((r) => indices.includes(r.sample ?? -1)).map((r) => r.id);
      await countCacheHits(db, hits);
      if (hits.length) llmCacheHits.inc({ role }, hits.length);
      const ctx = { db, openai, ep, role, key, messages, params, sampleGiven: sample !== undefined, signal, state, salt };
      for (let round = 0; round < TOP_UP_ROUNDS; round++) {
        const missing = indices.filter((i) => !rows.has(i));
        if (missing.length === 0) break;
        const got = await fetchSamples(ctx, missing); // throws (after storing what came) on an error
        for (const r of got) rows.set(r.sample ?? -1, r);
      }
      const missing = indices.filter((i) => !rows.has(i));
      if (missing.length > 0) {
        throw ApplicationFailure.create({
          type: ERR.llmShortfall,
          message: `the ${role} endpoint ${ep.baseURL} (model ${ep.model}) answered ${n - missing.length} of ${n} samples (the rest empty or missing) after ${TOP_UP_ROUNDS} tries; asking again`,
        });
      }
      const ordered = indices.flatMap((i) => rows.get(i) ?? []);
      return {
        callId: ordered[0]?.id ?? 0,
        callIds: ordered.map((r) => r.id),
        choices: ordered.map((r) => r.choices[0] ?? ''),
        cached: hits.length === n,
      };
    },
  };
}
