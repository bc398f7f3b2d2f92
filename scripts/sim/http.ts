/** Small HTTP plumbing for the simulator: OpenAI-style errors, JSON replies, request bodies. */
import type http from 'node:http';
import type { ChatMessageIn } from './answer';

const MAX_BODY = 32 * 1024 * 1024;

/** An error answered with an OpenAI-style body `{error: {message, type, param, code}}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: http.ServerResponse, e: HttpError, headers: Record<string, string> = {}): void {
  send(res, e.status, { error: { message: e.message, type: e.type, param: e.param, code: e.code } }, headers);
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new HttpError(413, 'request body too large', 'invalid_request_error', 'body_too_large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Message content as text: a string, or the text parts of a content array. */
function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (content === null) return '';
  if (Array.isArray(content)) {
    return content
      .map((p) =>
        typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '',
      )
      .join('');
  }
  return null;
}

export function parseMessages(raw: unknown): ChatMessageIn[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new HttpError(400, "'messages' must be a non-empty array", 'invalid_request_error', 'invalid_value', 'messages');
  }
  return raw.map((m: unknown, i) => {
    const role = (m as { role?: unknown })?.role;
    const content = textOf((m as { content?: unknown })?.content);
    if (typeof role !== 'string' || content === null) {
      throw new HttpError(400, `messages[${i}] needs a string role and text content`, 'invalid_request_error', 'invalid_value', 'messages');
    }
    return { role, content };
  });
}

export const tokens = (chars: number): number => Math.ceil(chars / 4);
