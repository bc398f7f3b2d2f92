/** Content addresses of LLM requests and of their samples (the call cache's keys). */
import { createHash } from 'node:crypto';
import type { ChatMessage } from '../environments/induction';

/**
 * The request's address: everything that decides what the server answers (endpoint host, model,
 * messages, sampling params), not how many samples. `revision` (the served checkpoint, when known)
 * and `salt` (a batch that samples afresh) join the key only when set, so keys made without them
 * stay the same.
 */
export function requestKey(
  host: string,
  model: string,
  messages: ChatMessage[],
  params: Record<string, unknown>,
  extra: { revision?: string; salt?: string } = {},
): string {
  const more = { ...(extra.revision ? { revision: extra.revision } : {}), ...(extra.salt ? { salt: extra.salt } : {}) };
  return createHash('sha256')
    .update(JSON.stringify({ host, model, messages, params, ...more }))
    .digest('hex');
}

/** A salt as a number to add to `seed`, so a salted request is also sampled afresh by a server with fixed seeds. */
export function saltSeed(salt: string): number {
  return createHash('sha256').update(salt).digest().readUInt32BE(0) % 1_000_000_000;
}

/** One sample's address: the request's key and the sample index. */
export function sampleHash(key: string, index: number): string {
  return createHash('sha256').update(`${key}#${index}`).digest('hex');
}
