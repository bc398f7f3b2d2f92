import { Context } from '@temporalio/activity';

/**
 * Runs `fn` while heartbeating every `everyMs`, so a worker that dies mid-call is noticed within
 * the heartbeat timeout instead of the (long) start-to-close timeout. Outside an activity it just runs fn.
 */
export async function withHeartbeat<T>(fn: (signal: AbortSignal | undefined) => Promise<T>, everyMs = 5_000): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  if (!ctx) return fn(undefined);
  const c = ctx;
  c.heartbeat();
  const timer = setInterval(() => c.heartbeat(), everyMs);
  try {
    return await fn(c.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
