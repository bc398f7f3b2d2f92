/**
 * The OpenAI batch file format (also what vLLM's `run-batch` reads and writes): one JSON line per
 * request `{custom_id, method, url, body}`; results come back as lines `{custom_id, response:
 * {status_code, body}, error}` in the output file (and the error file). Pure functions only.
 */
import { createHash } from 'node:crypto';

export const CHAT_URL = '/v1/chat/completions';

/** One queued request as the packer sees it. */
export interface Packable {
  id: string;
  bytes: number;
}

/** The JSONL line of a request (custom_id = the request's natural key). */
export function lineOf(id: string, body: Record<string, unknown>): string {
  return JSON.stringify({ custom_id: id, method: 'POST', url: CHAT_URL, body });
}

/** Bytes of a line in the file, newline included. */
export function lineBytes(id: string, body: Record<string, unknown>): number {
  return Buffer.byteLength(lineOf(id, body)) + 1;
}

/**
 * The next file from the oldest queued requests: as many as fit in both limits, in order. A file
 * goes out when it is full (the next request would not fit, or maxRequests reached) or when its
 * oldest request has waited `collectMs`; else null (keep collecting).
 */
export function packFile<T extends Packable>(
  queued: readonly T[],
  limits: { maxRequests: number; maxBytes: number },
  oldestAgeMs: number,
  collectMs: number,
): T[] | null {
  const out: T[] = [];
  let bytes = 0;
  let full = false;
  for (const r of queued) {
    if (out.length >= limits.maxRequests || bytes + r.bytes > limits.maxBytes) {
      full = true;
      break;
    }
    out.push(r);
    bytes += r.bytes;
  }
  if (out.length >= limits.maxRequests) full = true;
  if (out.length === 0) return null;
  return full || oldestAgeMs >= collectMs ? out : null;
}

/** The file's natural key: role + a hash of its requests (id and try: the same requests on the same try make the same key). */
export function fileKeyOf(role: string, ids: readonly string[]): string {
  return `${role}-${createHash('sha256')
    .update([...ids].sort().join('\n'))
    .digest('hex')
    .slice(0, 32)}`;
}

/** The file name uploaded under, by which a crashed collector finds a file it uploaded but did not record. */
export function fileNameOf(key: string): string {
  return `cairn-${key}.jsonl`;
}

export type ResultLine =
  { customId: string; ok: true; body: ChatBody } | { customId: string; ok: false; status: number | null; message: string };

export interface ChatBody {
  choices?: { index?: number; message?: { content?: string | null } | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** Parses an output or error file's text. Lines that are not results (blank, garbage) are skipped: their requests stay unanswered. */
export function parseResults(text: string): ResultLine[] {
  const out: ResultLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    let v: {
      custom_id?: unknown;
      response?: { status_code?: number; body?: unknown } | null;
      error?: { message?: string; code?: string } | null;
    };
    try {
      v = JSON.parse(line) as typeof v;
    } catch {
      continue;
    }
    if (typeof v?.custom_id !== 'string') continue;
    const status = typeof v.response?.status_code === 'number' ? v.response.status_code : null;
    const body = v.response?.body as (ChatBody & { error?: { message?: string } }) | undefined;
    if (status === 200 && body && typeof body === 'object' && !v.error) out.push({ customId: v.custom_id, ok: true, body });
    else
      out.push({
        customId: v.custom_id,
        ok: false,
        status,
        message: v.error?.message ?? body?.error?.message ?? `status ${status ?? 'unknown'}`,
      });
  }
  return out;
}

/** Whether a refused line is worth sending again (rate limits, server errors, no status) or is the request's own fault (4xx). */
export function retryableLine(status: number | null): boolean {
  return status === null || status === 408 || status === 409 || status === 429 || status >= 500;
}
