/**
 * Maps LLM endpoint failures to Temporal failures by whose fault they are: classification lives
 * here, retry policy in the workflow. The OpenAI client runs with maxRetries 0, so retries are
 * Temporal's alone.
 *  - endpoint wrong (401/403/404, other 4xx, unknown model): ERR.llmRejected, non-retryable; the batch pauses.
 *  - request wrong (400/413/422: context length, content filter, invalid parameter): ERR.llmRequestInvalid,
 *    non-retryable; the teacher turn is recorded invalid, or the student problem failed, and the seed goes on.
 *  - transient (408/409/429/5xx, resets, timeouts): retryable, after Retry-After when the server sends one.
 */
import { ApplicationFailure } from '@temporalio/common';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ERR } from '../../workflows/contracts';

export const DEFAULT_RETRY_AFTER_MS = 5_000;
const MAX_RETRY_AFTER_MS = 10 * 60_000;
const TRANSIENT = new Set([408, 409, 425, 429]);
const REQUEST_WRONG = new Set([400, 413, 422]);

/** The detail a timed-out request's failure carries. */
export const TIMED_OUT = 'timed-out';

export type Fault = 'endpoint' | 'request' | 'transient';

/** Retry-After as seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.min(MAX_RETRY_AFTER_MS, Math.round(Number(v) * 1000));
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, t - now));
}

function retryAfterOf(err: APIError): number | null {
  const ms = err.headers?.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.min(MAX_RETRY_AFTER_MS, Math.round(Number(ms)));
  return parseRetryAfter(err.headers?.get('retry-after'));
}

/** A 400 that names an unknown model is the endpoint's fault (servers differ: some say 404, some 400). */
function unknownModel(err: APIError): boolean {
  return err.code === 'model_not_found' || /\bmodel\b[^.]*\b(not found|does not exist|not exist|unknown)\b/i.test(err.message);
}

/**
 * The `n` limit a 400 names, when the server rejected the `n = asked` it was sent: `Infinity` when
 * it names no number (the caller then asks one sample per request), else the largest `n` it takes.
 * Null when the 400 is about something else.
 */
export function nLimitOf(err: unknown, asked: number): number | null {
  if (!(err instanceof APIError) || err.status !== 400 || asked <= 1) return null;
  const m = err.message;
  // llama.cpp: "Value must be between 1 <= value <= 2" (its slot count, without naming n); OpenAI-style bodies name param 'n'.
  const range = /<=\s*value\s*<=\s*(\d+)/.exec(m);
  const limit = range ? Number(range[1]) : null;
  if (err.param === 'n' || /'n'|\bn\s*=|\bn\b must|only n\b/i.test(m)) return limit ?? Number.POSITIVE_INFINITY;
  if (limit !== null && limit < asked) return limit;
  return null;
}

export interface Classified {
  fault: Fault;
  failure: ApplicationFailure;
  retryAfterMs: number | null;
}

/** Converts anything the OpenAI client throws into a classified ApplicationFailure; aborts and unknown errors are rethrown as they are. */
export function classifyLlmError(err: unknown, what: { role: string; model: string; baseURL: string }): Classified {
  if (err instanceof APIUserAbortError) throw err; // cancellation: let it propagate as is
  const where = `${what.role} endpoint ${what.baseURL} (model ${what.model})`;
  if (err instanceof APIConnectionTimeoutError) {
    return {
      fault: 'transient',
      retryAfterMs: null,
      // TIMED_OUT in details: sample-outcome.ts records the request failed after TIMEOUT_ATTEMPTS such attempts.
      failure: ApplicationFailure.create({
        type: ERR.llmUnavailable,
        message: `the ${where} timed out: ${err.message}`,
        details: [TIMED_OUT],
        cause: err,
      }),
    };
  }
  if (err instanceof APIConnectionError) {
    return {
      fault: 'transient',
      retryAfterMs: null,
      failure: ApplicationFailure.create({ type: ERR.llmUnavailable, message: `cannot reach the ${where}: ${err.message}`, cause: err }),
    };
  }
  if (!(err instanceof APIError) || typeof err.status !== 'number') throw err;
  const status = err.status;
  const detail = err.message.replace(/^\d{3}\s+/, ''); // the client puts the status first; it is said once below
  if (TRANSIENT.has(status) || status >= 500) {
    const ms = retryAfterOf(err) ?? (status === 429 || status === 503 ? DEFAULT_RETRY_AFTER_MS : null);
    return {
      fault: 'transient',
      retryAfterMs: ms,
      failure: ApplicationFailure.create({
        type: status === 429 || status === 503 ? ERR.rateLimited : ERR.llmUnavailable,
        message: `${where} answered ${status}${ms === null ? '' : `; retrying in ${ms} ms`}: ${detail}`,
        ...(ms === null ? {} : { nextRetryDelay: ms }),
        cause: err,
      }),
    };
  }
  if (REQUEST_WRONG.has(status) && !unknownModel(err)) {
    return {
      fault: 'request',
      retryAfterMs: null,
      failure: ApplicationFailure.create({
        // No URL: the reason is recorded with the turn (and shown to the teacher), so it reads the same from every worker.
        type: ERR.llmRequestInvalid,
        nonRetryable: true,
        message: `the ${what.role} endpoint (model ${what.model}) refused this request with ${status}: ${detail}`,
        cause: err,
      }),
    };
  }
  const hint =
    status === 401 || status === 403
      ? 'check the API key (CAIRN_<ROLE>_API_KEY)'
      : status === 404 || unknownModel(err)
        ? 'check the model name (CAIRN_<ROLE>_MODEL) and base URL'
        : 'check the endpoint settings';
  return {
    fault: 'endpoint',
    retryAfterMs: null,
    failure: ApplicationFailure.create({
      type: ERR.llmRejected,
      nonRetryable: true,
      message: `${where} rejected the request with ${status} (${detail}): ${hint}`,
      cause: err,
    }),
  };
}
