/**
 * The simulator's HTTP server (node:http, OpenAI-compatible): `POST /v1/chat/completions`,
 * `GET /v1/models`, the batch API (`/v1/files`, `/v1/batches`: sim-batches.ts), and the admin endpoints `GET|POST /admin/config`, `GET|DELETE /admin/stats`.
 * Admin endpoints need no key: the server binds to loopback by default.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answer, roleOf, SIM_MODELS, type ChatMessageIn } from './answer';
import { FaultStream, type Role } from './faults';
import { HttpError, parseMessages, readBody, send, sendError, tokens } from './http';
import { parseSimSettings, publicSettings, SimSettingsError, type SimSettings } from './settings';
import { createSimBatchApi, type SimBatchStats } from './sim-batches';

/** Settings plus where to listen (port 0 = a free port). */
export interface SimOptions extends Partial<SimSettings> {
  port?: number;
  host?: string;
}

/** Request counts of /v1/chat/completions by role ('unknown' for other models) and status. */
export interface SimStats {
  requests: number;
  byRole: Record<Role | 'unknown', Record<string, number>>;
  /** Choices served with content in 200 answers, by role: the samples a client paid for. */
  samples: Record<Role, number>;
  inFlight: number;
  /** Choices the requests in flight will answer (n summed): the most a client killed now may pay for twice. */
  inFlightSamples: number;
  /** The same, by role: a killed teacher worker can pay twice only for teacher samples. */
  inFlightSamplesByRole: Record<Role, number>;
  maxInFlight: number;
}

export interface SimServer {
  /** Base URL for an OpenAI client, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  port: number;
  close(): Promise<void>;
  /** The current settings (a frozen snapshot; changes via `configure` or POST /admin/config). */
  readonly settings: Readonly<SimSettings>;
  stats(): SimStats;
  /** Changes settings while running (same rules as POST /admin/config). */
  configure(patch: Readonly<Record<string, unknown>>): Readonly<SimSettings>;
  /** What the batch API (/v1/files, /v1/batches) served. */
  batches(): SimBatchStats;
}

/** Starts the simulator. Resolves once it listens. */
export async function createSimServer(opts: SimOptions = {}): Promise<SimServer> {
  const { port: wantPort = 0, host = '127.0.0.1', ...flags } = opts;
  let settings = parseSimSettings(flags);
  const faults = new FaultStream(settings.seed);
  let inFlight = 0;
  let inFlightSamples = 0;
  const inFlightByRole: Record<Role, number> = { teacher: 0, student: 0 };
  let maxInFlight = 0;
  let counter = 0;
  let closing = false;
  /** Simulated latencies still running: close() ends them, so a held request cannot keep the process alive. */
  const holds = new Set<() => void>();
  const hold = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        holds.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      holds.add(done);
    });
  const empty = (): SimStats['byRole'] => ({ teacher: {}, student: {}, unknown: {} });
  let byRole = empty();
  let samples: SimStats['samples'] = { teacher: 0, student: 0 };

  const record = (role: Role | null, status: number | 'reset'): void => {
    const bucket = byRole[role ?? 'unknown'];
    bucket[String(status)] = (bucket[String(status)] ?? 0) + 1;
  };

  const configure = (patch: Readonly<Record<string, unknown>>): Readonly<SimSettings> => {
    // A GET's output posted back must not turn the key into the placeholder.
    const { apiKey, ...rest } = patch;
    const next = parseSimSettings(apiKey === '(set)' ? rest : patch, settings, { strict: true });
    if (next.seed !== settings.seed) faults.reseed(next.seed);
    settings = next;
    return settings;
  };

  const batchApi = createSimBatchApi(() => settings);
  const authorized = (req: http.IncomingMessage): boolean => !settings.apiKey || req.headers.authorization === `Bearer ${settings.apiKey}`;
  const unauthorized = new HttpError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');

  async function chat(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      body = null;
    }
    const model = typeof body?.model === 'string' ? body.model : '';
    const role = roleOf(model);
    const fail = (e: HttpError, headers?: Record<string, string>): void => {
      record(role, e.status);
      sendError(res, e, headers);
    };
    if (!authorized(req)) return fail(unauthorized);
    if (!body) return fail(new HttpError(400, 'the body must be a JSON object', 'invalid_request_error', 'invalid_json'));

    // Checked before any fault, so a wrong model name surfaces at once (non-retryable) even in chaos runs.
    if (!role)
      return fail(
        new HttpError(
          404,
          `The model \`${model}\` does not exist or you do not have access to it.`,
          'invalid_request_error',
          'model_not_found',
          'model',
        ),
      );

    const s = settings;
    const decision = faults.next(s, role);
    const retry = { 'retry-after': String(s.retryAfterS), 'retry-after-ms': String(Math.round(s.retryAfterS * 1000)) };
    if (s.maxConcurrent > 0 && inFlight >= s.maxConcurrent) {
      return fail(new HttpError(429, `too many concurrent requests (limit ${s.maxConcurrent})`, 'requests', 'rate_limit_exceeded'), retry);
    }
    if (decision.kind === 'reset') {
      record(role, 'reset');
      req.socket.destroy();
      return;
    }
    if (decision.kind === 'rate_limit') {
      return fail(new HttpError(429, 'Rate limit reached for requests. Please try again later.', 'requests', 'rate_limit_exceeded'), retry);
    }
    if (decision.kind === 'server_error') {
      const e = new HttpError(decision.status, 'The server had an error while processing your request.', 'server_error', null);
      return fail(e, decision.status === 503 ? retry : {});
    }

    let messages: ChatMessageIn[];
    try {
      messages = parseMessages(body.messages);
    } catch (e) {
      if (e instanceof HttpError) return fail(e);
      throw e;
    }
    const n = body.n === undefined || body.n === null ? 1 : body.n;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 128) {
      return fail(new HttpError(400, "'n' must be an integer from 1 to 128", 'invalid_request_error', 'invalid_value', 'n'));
    }
    if (n > 1 && !s.nSupport)
      return fail(new HttpError(400, 'this server supports only n = 1', 'invalid_request_error', 'unsupported_value', 'n'));
    if (s.nLimit > 0 && n > s.nLimit)
      return fail(new HttpError(400, `Value must be between 1 <= value <= ${s.nLimit}`, 'invalid_request_error', null));
    const promptChars = messages.reduce((a, m) => a + m.content.length, 0);
    if (s.contextLimitChars > 0 && promptChars > s.contextLimitChars) {
      return fail(
        new HttpError(
          400,
          `This model's maximum context length is ${tokens(s.contextLimitChars)} tokens. However, your messages resulted in ${tokens(promptChars)} tokens. Please reduce the length of the messages.`,
          'invalid_request_error',
          'context_length_exceeded',
          'messages',
        ),
      );
    }
    if (body.stream === true)
      return fail(new HttpError(400, 'streaming is not supported', 'invalid_request_error', 'unsupported_value', 'stream'));
    const requestSeed = typeof body.seed === 'number' && Number.isFinite(body.seed) ? body.seed : null;

    const served = s.nCap > 0 ? Math.min(n, s.nCap) : n;
    inFlight++;
    inFlightSamples += served;
    inFlightByRole[role] += served;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (decision.latencyMs > 0) await hold(decision.latencyMs);
      if (closing || res.destroyed) return;
      const choices = (await answer(s, role, model, messages, requestSeed, served)).map((c, i) =>
        decision.nullChoice(i, s.nullContentRate) ? { content: null, reasoning: null } : c,
      );
      samples[role] += choices.filter((c) => c.content !== null).length;
      const completion = choices.reduce((a, c) => a + tokens((c.content?.length ?? 0) + (c.reasoning?.length ?? 0)), 0);
      record(role, 200);
      send(res, 200, {
        id: `chatcmpl-sim-${++counter}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: choices.map((c, index) => ({
          index,
          message: { role: 'assistant', content: c.content, ...(c.reasoning !== null ? { reasoning_content: c.reasoning } : {}) },
          finish_reason: c.content === null ? 'content_filter' : 'stop',
        })),
        usage: { prompt_tokens: tokens(promptChars), completion_tokens: completion, total_tokens: tokens(promptChars) + completion },
      });
    } finally {
      inFlight--;
      inFlightSamples -= served;
      inFlightByRole[role] -= served;
    }
  }

  async function admin(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    if (path === '/admin/config' && req.method === 'GET') return send(res, 200, publicSettings(settings));
    if (path === '/admin/config' && req.method === 'POST') {
      let patch: unknown;
      try {
        patch = JSON.parse(await readBody(req));
      } catch {
        throw new HttpError(400, 'the body must be a JSON object', 'invalid_request_error', 'invalid_json');
      }
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        throw new HttpError(400, 'the body must be a JSON object', 'invalid_request_error', 'invalid_json');
      }
      return send(res, 200, publicSettings(configure(patch as Record<string, unknown>)));
    }
    if (path === '/admin/stats' && req.method === 'GET') return send(res, 200, stats());
    if (path === '/admin/stats' && req.method === 'DELETE') {
      byRole = empty();
      samples = { teacher: 0, student: 0 };
      maxInFlight = inFlight;
      return send(res, 200, stats());
    }
    throw new HttpError(404, `no route ${req.method} ${path}`, 'invalid_request_error', 'not_found');
  }

  function stats(): SimStats {
    const copy = empty();
    for (const r of ['teacher', 'student', 'unknown'] as const) copy[r] = { ...byRole[r] };
    const requests = Object.values(copy).reduce((a, b) => a + Object.values(b).reduce((x, y) => x + y, 0), 0);
    return {
      requests,
      byRole: copy,
      samples: { ...samples },
      inFlight,
      inFlightSamples,
      inFlightSamplesByRole: { ...inFlightByRole },
      maxInFlight,
    };
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sim').pathname.replace(/\/+$/, '');
    if (path === '/v1/chat/completions' && req.method === 'POST') return chat(req, res);
    if (path.startsWith('/v1/models') && req.method === 'GET') {
      if (!authorized(req)) throw unauthorized;
      const data = SIM_MODELS.map((id) => ({ id, object: 'model', created: 0, owned_by: 'cairn-sim' }));
      if (path === '/v1/models') return send(res, 200, { object: 'list', data });
      const one = data.find((m) => path === `/v1/models/${m.id}`);
      if (one) return send(res, 200, one);
      throw new HttpError(404, 'The model does not exist.', 'invalid_request_error', 'model_not_found', 'model');
    }
    if (path.startsWith('/admin/')) return admin(req, res, path);
    if (path.startsWith('/v1/files') || path.startsWith('/v1/batches')) {
      if (!authorized(req)) throw unauthorized;
      if (await batchApi.route(req, res, path)) return;
    }
    throw new HttpError(404, `no route ${req.method} ${path}`, 'invalid_request_error', 'not_found');
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return sendError(res, err);
      if (err instanceof SimSettingsError)
        return sendError(res, new HttpError(400, err.message, 'invalid_request_error', 'invalid_setting'));
      sendError(res, new HttpError(500, `simulator bug: ${err instanceof Error ? err.message : String(err)}`, 'server_error', null));
    });
  });
  // Keep-alive sockets must not hold close() open.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wantPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    port,
    get settings() {
      return settings;
    },
    stats,
    configure,
    batches: () => batchApi.stats(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        for (const done of [...holds]) done();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
