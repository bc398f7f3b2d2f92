/**
 * Asks the endpoint for the samples a request lacks: one request with `n` when the server takes it
 * (in groups no larger than the `n` it accepts), else one request per sample, with bounded
 * concurrency either way. Every sample is stored the moment its answer arrives; errors are
 * classified and thrown only after every request in flight has settled, so nothing paid is lost.
 */
import { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import { APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import type OpenAI from 'openai';
import type { Database } from '../../db/client';
import { insertLlmCall } from '../../db/queries/llm';
import type { LlmCall } from '../../db/schema';
import type { ChatMessage } from '../environments/induction';
import { APIError } from 'openai';
import { llmRateLimited, llmRequests, llmSamplesPaid, llmTokens } from '../cairn-metrics';
import { classifyLlmError, nLimitOf, type Classified } from './classify-error';
import type { LlmEndpoint } from './llm-client';
import { saltSeed, sampleHash } from './sample-key';

export interface SamplerState {
  nCap: number;
}

export interface SampleContext {
  db: Database;
  openai: OpenAI;
  ep: LlmEndpoint;
  role: string;
  key: string;
  messages: ChatMessage[];
  params: Record<string, unknown>;
  /** The caller set `sample`: always send `seed`, even for index 0. */
  sampleGiven: boolean;
  signal?: AbortSignal;
  state: SamplerState;
  /** A batch that samples afresh: its salt moves every `seed` too. */
  salt?: string;
}

/** Contiguous groups of at most `cap` indices (a group's samples come from one request). */
export function groupsOf(indices: number[], cap: number): number[][] {
  const out: number[][] = [];
  for (const i of indices) {
    const last = out[out.length - 1];
    if (last && last.length < cap && last[last.length - 1] === i - 1) last.push(i);
    else out.push([i]);
  }
  return out;
}

/** The most telling of several failures: endpoint wrong, then request wrong, then transient with the longest Retry-After. */
export function worstOf(errors: Classified[]): ApplicationFailure | undefined {
  const rank = { endpoint: 0, request: 1, transient: 2 } as const;
  const sorted = [...errors].sort((a, b) => rank[a.fault] - rank[b.fault] || (b.retryAfterMs ?? 0) - (a.retryAfterMs ?? 0));
  return sorted[0]?.failure;
}

/** One choice as it came back: text (null when the server sent none), why it stopped, the reasoning when given apart. */
export interface ChoiceOut {
  index: number;
  content: string | null;
  finishReason: string | null;
  reasoning: string | null;
}

interface Answer {
  choices: ChoiceOut[];
  prompt: number;
  completion: number;
}

/** vLLM and llama.cpp name it `reasoning_content`; some servers `reasoning`. */
function reasoningOf(m: unknown): string | null {
  const o = (m ?? {}) as { reasoning_content?: unknown; reasoning?: unknown };
  const r = o.reasoning_content ?? o.reasoning;
  return typeof r === 'string' && r !== '' ? r : null;
}

async function askPlain(ctx: SampleContext, body: Record<string, unknown>): Promise<Answer> {
  const res = await ctx.openai.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, {
    signal: ctx.signal,
  });
  const choices = [...(res.choices ?? [])]
    .filter((c) => c && typeof c.index === 'number')
    .map((c) => ({
      index: c.index,
      content: typeof c.message?.content === 'string' ? c.message.content : null,
      finishReason: c.finish_reason ?? null,
      reasoning: reasoningOf(c.message),
    }));
  return { choices, prompt: res.usage?.prompt_tokens ?? 0, completion: res.usage?.completion_tokens ?? 0 };
}

/** Beat the activity's heartbeat (outside an activity: nothing). */
function beat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    /* not in an activity */
  }
}

/**
 * Streams the answer: the headers come at once (a non-streamed answer that takes longer than
 * Node's 5-minute headers timeout is cut), the activity heartbeats as chunks arrive, and a stream
 * that sends nothing for `idleTimeoutMs` is cut as a transient failure (retried) instead of
 * holding its seed for the whole request timeout.
 */
async function askStreamed(ctx: SampleContext, body: Record<string, unknown>): Promise<Answer> {
  const idleMs = ctx.ep.idleTimeoutMs ?? 120_000;
  const ac = new AbortController();
  const onAbort = () => ac.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  let idle = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      idle = true;
      ac.abort();
    }, idleMs);
  };
  const acc = new Map<number, ChoiceOut>();
  let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
  try {
    arm();
    const stream = await ctx.openai.chat.completions.create(
      { ...body, stream: true, stream_options: { include_usage: true } } as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
      { signal: ac.signal },
    );
    for await (const chunk of stream) {
      arm();
      beat();
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices ?? []) {
        if (!c || typeof c.index !== 'number') continue;
        const cur = acc.get(c.index) ?? { index: c.index, content: null, finishReason: null, reasoning: null };
        const d = c.delta as { content?: unknown } | undefined;
        if (typeof d?.content === 'string') cur.content = (cur.content ?? '') + d.content;
        const r = reasoningOf(d);
        if (r) cur.reasoning = (cur.reasoning ?? '') + r;
        if (c.finish_reason) cur.finishReason = c.finish_reason;
        acc.set(c.index, cur);
      }
    }
    // The client's stream ends quietly when aborted: say why it ended.
    if (ac.signal.aborted) throw idle ? idleError(idleMs) : new APIUserAbortError();
  } catch (err) {
    if (idle) throw idleError(idleMs);
    throw err;
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onAbort);
  }
  return { choices: [...acc.values()], prompt: usage?.prompt_tokens ?? 0, completion: usage?.completion_tokens ?? 0 };
}

/** Reasoning a model wrote inline (`<think>...</think>`; the answer text keeps it, the parsers drop it). */
export function inlineReasoning(text: string): string | null {
  const parts = [...text.matchAll(/<(think|thinking)>([\s\S]*?)(<\/\1>|$)/g)].map((m) => (m[2] ?? '').trim()).filter(Boolean);
  return parts.length ? parts.join('\n\n') : null;
}

function idleError(idleMs: number): APIConnectionTimeoutError {
  return new APIConnectionTimeoutError({ message: `the stream sent nothing for ${Math.round(idleMs / 1000)} s (idle timeout)` });
}

/** One request for a group of sample indices; stores each choice that has content. */
async function askGroup(ctx: SampleContext, group: number[]): Promise<LlmCall[]> {
  const { ep, state } = ctx;
  const firstIdx = group[0] ?? 0;
  // `seed` tells apart requests that would otherwise be identical (a server with a fixed seed repeats itself);
  // a top-up group starts at its first missing index, so it never repeats the choices already paid for.
  const seed = ctx.salt ? saltSeed(ctx.salt) + firstIdx : firstIdx === 0 && !ctx.sampleGiven ? undefined : firstIdx;
  const body = { ...ctx.params, model: ep.model, messages: ctx.messages, n: group.length, ...(seed === undefined ? {} : { seed }) };
  const started = Date.now();
  const res = ep.stream ? await askStreamed(ctx, body) : await askPlain(ctx, body);
  const latencyMs = Date.now() - started;
  llmRequests.inc({ role: ctx.role, outcome: 'ok' });
  const choices = [...(res.choices ?? [])].filter((c) => c && typeof c.index === 'number').sort((a, b) => a.index - b.index);
  // A server that silently caps `n` answers fewer choices: ask it for at most that many from now on.
  const returned = choices.length;
  if (returned > 0 && returned < group.length) state.nCap = Math.min(state.nCap, returned);
  const usable = choices
    .slice(0, group.length)
    .map((c, j) => ({ ...c, idx: group[j] as number }))
    .filter((c): c is ChoiceOut & { idx: number; content: string } => typeof c.content === 'string');
  const { prompt, completion } = res;
  const share = usable.length ? Math.floor(completion / usable.length) : 0;
  llmTokens.inc({ role: ctx.role, kind: 'prompt' }, prompt);
  llmTokens.inc({ role: ctx.role, kind: 'completion' }, completion);
  const rows: LlmCall[] = [];
  for (const [j, c] of usable.entries()) {
    // Usage is per request: the prompt counts once, the completion tokens are shared out.
    rows.push(
      await storePaid(ctx, {
        requestHash: sampleHash(ctx.key, c.idx),
        requestKey: ctx.key,
        sample: c.idx,
        role: ctx.role,
        model: ep.model,
        request: { messages: ctx.messages, params: { ...ctx.params, n: group.length, ...(seed === undefined ? {} : { seed }) } },
        choices: [c.content],
        finishReason: c.finishReason,
        reasoning: c.reasoning ?? inlineReasoning(c.content),
        promptTokens: j === 0 ? prompt : 0,
        completionTokens: j === 0 ? completion - share * (usable.length - 1) : share,
        latencyMs,
      }),
    );
    llmSamplesPaid.inc({ role: ctx.role });
  }
  return rows;
}

/** How long a paid sample waits for the database (a Postgres restart, a failover) before it is given up. */
export const STORE_PATIENCE_MS = 5 * 60_000;

/**
 * Stores a sample that has been paid for. The answer is in memory and the endpoint will not give it
 * back, so a database that is briefly away (restart, failover, a full pool) is waited for with
 * backoff instead of failing the activity, whose retry would pay for the sample again. The
 * activity keeps heartbeating meanwhile; cancellation does not stop the wait (the sample is paid).
 */
export async function storePaid(
  ctx: Pick<SampleContext, 'db' | 'role'> & { patienceMs?: number; sleep?: (ms: number) => Promise<void> },
  row: Parameters<typeof insertLlmCall>[1],
): Promise<LlmCall> {
  const patience = ctx.patienceMs ?? STORE_PATIENCE_MS;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await insertLlmCall(ctx.db, row);
    } catch (err) {
      if (Date.now() - started >= patience) throw err;
      const wait = Math.min(5000, 200 * 2 ** attempt);
      if (attempt === 0)
        console.warn(
          `cairn: storing a paid ${ctx.role} sample failed (${String((err as Error)?.message ?? err)}); retrying for up to ${Math.round(patience / 1000)} s`,
        );
      await sleep(wait);
    }
  }
}

/** Counts a request that failed, by how (the metrics' outcome label). */
function countFailed(role: string, err: unknown): void {
  const status = err instanceof APIError ? err.status : undefined;
  if (status === 429) llmRateLimited.inc({ role });
  const outcome =
    status === 429
      ? 'rate_limited'
      : status === undefined
        ? (err as Error)?.name === 'APIUserAbortError'
          ? 'aborted'
          : 'transient'
        : status >= 500 || [408, 409, 425].includes(status)
          ? 'transient'
          : [400, 413, 422].includes(status)
            ? 'request'
            : 'endpoint';
  llmRequests.inc({ role, outcome });
}

/**
 * Fetches the `missing` sample indices once each (capped groups, bounded concurrency). Returns the
 * stored rows; throws the most telling failure after all requests settle when any failed. A 400
 * about `n` lowers the cap and is not an error (the caller's next round asks again).
 */
export async function fetchSamples(ctx: SampleContext, missing: number[]): Promise<LlmCall[]> {
  const what = { role: ctx.role, model: ctx.ep.model, baseURL: ctx.ep.baseURL };
  const queue = groupsOf(missing, ctx.state.nCap);
  const got: LlmCall[] = [];
  const errors: Classified[] = [];
  let fatal: unknown;
  const worker = async () => {
    for (let g = queue.shift(); g && fatal === undefined; g = queue.shift()) {
      try {
        got.push(...(await askGroup(ctx, g)));
      } catch (err) {
        countFailed(ctx.role, err);
        const limit = nLimitOf(err, g.length);
        if (limit !== null) {
          ctx.state.nCap = Math.max(1, Math.min(ctx.state.nCap, limit === Number.POSITIVE_INFINITY ? 1 : Math.min(limit, g.length - 1)));
          continue;
        }
        try {
          errors.push(classifyLlmError(err, what));
        } catch (e) {
          fatal = e; // cancellation or a bug: stop starting requests, rethrow once the others settle
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(ctx.ep.sampleConcurrency, queue.length)) }, worker));
  if (fatal !== undefined) throw fatal;
  const failure = worstOf(errors);
  if (failure) throw failure;
  return got;
}
