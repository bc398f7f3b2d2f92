/** Content addresses of LLM requests and of their samples (the call cache's keys). */
import { createHash } from 'node:crypto';
import type { ChatMessage } from '../environments/induction';

/** The request's address: everything that decides what the server answers (endpoint host, model, messages, sampling params), not how many samples. */
export function requestKey(host: string, model: string, messages: ChatMessage[], params: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify({ host, model, messages, params })).digest('hex');
}

/** One sample's address: the request's key and the sample index. */
export function sampleHash(key: string, index: number): string {
  return createHash('sha256').update(`${key}#${index}`).digest('hex');
}
