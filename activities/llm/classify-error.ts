/**
 * Maps LLM endpoint failures to Temporal failures: classification lives here, retry policy in the
 * workflow. The OpenAI client runs with maxRetries 0, so retries are Temporal's alone.
 */
import { ApplicationFailure } from '@temporalio/common';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ERR } from '../../workflows/contracts';

const NON_RETRYABLE = new Set([400, 401, 403, 404, 422]);
export const DEFAULT_RETRY_AFTER_MS = 5_000;
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Retry-After as seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.min(MAX_RETRY_AFTER_MS, Math.round(Number(v) * 1000));
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, t - now));
}

/** Converts anything the OpenAI client throws into an ApplicationFailure (or rethrows aborts). */
export function classifyLlmError(err: unknown, what: { role: string; model: string; baseURL: string }): unknown {
  if (err instanceof APIUserAbortError) return err; // cancellation: let it propagate as is
  const where = `${what.role} endpoint ${what.baseURL} (model ${what.model})`;
  if (err instanceof APIConnectionTimeoutError || err instanceof APIConnectionError) {
    return ApplicationFailure.create({ type: ERR.llmUnavailable, message: `cannot reach the ${where}: ${err.message}`, cause: err });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    if (status === 429 || status === 503) {
      const ms = parseRetryAfter(err.headers?.get('retry-after')) ?? DEFAULT_RETRY_AFTER_MS;
      return ApplicationFailure.create({
        type: ERR.rateLimited, message: `${where} answered ${status}; retrying in ${ms} ms`,
        nextRetryDelay: ms, cause: err,
      });
    }
    if (NON_RETRYABLE.has(status)) {
      const hint = status === 401 || status === 403 ? 'check the API key (CAIRN_<ROLE>_API_KEY)'
        : status === 404 ? 'check the model name (CAIRN_<ROLE>_MODEL) and base URL'
          : 'the request was rejected; check the extra body settings and the model';
      return ApplicationFailure.create({
        type: ERR.llmRejected, nonRetryable: true,
        message: `${where} rejected the request with ${status} (${err.message}): ${hint}`, cause: err,
      });
    }
    return ApplicationFailure.create({ type: ERR.llmUnavailable, message: `${where} answered ${status}: ${err.message}`, cause: err });
  }
  return err;
}
