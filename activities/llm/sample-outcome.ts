/**
 * Where a request-level LLM failure stops being retried and becomes a recorded outcome: a request
 * the endpoint refuses (ERR.llmRequestInvalid), one that still comes back without content after
 * SHORTFALL_ATTEMPTS activity attempts, or one that times out (request timeout or idle stream) on
 * attempt TIMEOUT_ATTEMPTS or later. Everything else (endpoint wrong, transient) is rethrown.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ERR } from '../../workflows/contracts';
import { TIMED_OUT } from './classify-error';

export const SHORTFALL_ATTEMPTS = 5;
/** A request still timing out on this attempt is recorded failed (the seed goes on) instead of retried for ever. */
export const TIMEOUT_ATTEMPTS = 4;

function attemptNumber(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

export async function sampleOrReason<T>(fn: () => Promise<T>): Promise<T | { reason: string }> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === ERR.llmRequestInvalid) return { reason: err.message };
    if (err instanceof ApplicationFailure && err.type === ERR.llmShortfall && attemptNumber() >= SHORTFALL_ATTEMPTS) {
      return { reason: `${err.message.replace(/; asking again$/, '')} (${SHORTFALL_ATTEMPTS} activity attempts)` };
    }
    if (
      err instanceof ApplicationFailure &&
      err.type === ERR.llmUnavailable &&
      (err.details ?? []).includes(TIMED_OUT) &&
      attemptNumber() >= TIMEOUT_ATTEMPTS
    ) {
      return { reason: `${err.message} (attempt ${attemptNumber()}; given up after ${TIMEOUT_ATTEMPTS} attempts)` };
    }
    throw err;
  }
}
