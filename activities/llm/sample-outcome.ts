/**
 * Where a request-level LLM failure stops being retried and becomes a recorded outcome: a request
 * the endpoint refuses (ERR.llmRequestInvalid), or one that still comes back without content after
 * SHORTFALL_ATTEMPTS activity attempts. Everything else (endpoint wrong, transient) is rethrown.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ERR } from '../../workflows/contracts';

export const SHORTFALL_ATTEMPTS = 5;

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
    throw err;
  }
}
