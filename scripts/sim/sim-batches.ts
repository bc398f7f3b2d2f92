/**
 * The simulator's OpenAI batch API, in memory: `POST /v1/files` (multipart, purpose "batch"),
 * `GET /v1/files` (list, newest first), `GET /v1/files/{id}`, `GET /v1/files/{id}/content`,
 * `POST /v1/batches`, `GET /v1/batches` (list, newest first), `GET /v1/batches/{id}`,
 * `POST /v1/batches/{id}/cancel`. A batch is `in_progress` for the `batchDelayMs` setting, then
 * (on the next read) every line is answered by the same model as `/v1/chat/completions` (no
 * faults) into an output file, refused lines into an error file. Limits as OpenAI's: at most
 * `batchMaxRequests` lines (default 50,000) and 200 MB per file; over them the batch fails.
 */
import type http from 'node:http';
import { answer, roleOf } from './answer';
import { HttpError, parseMessages, send, tokens } from './http';
import type { SimSettings } from './settings';

const MAX_FILE_BYTES = 200 * 1024 * 1024;

interface SimFile {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  created_at: number;
  content: string;
}

interface SimBatch {
  id: string;
  input_file_id: string;
  endpoint: string;
  completion_window: string;
  metadata: Record<string, string> | null;
  status: string;
  created_at: number;
  /** ms clock of creation (created_at is seconds, as OpenAI's). */
  createdMs: number;
  output_file_id: string | null;
  error_file_id: string | null;
  errors: { object: 'list'; data: { code: string; message: string; line?: number | null }[] } | null;
  request_counts: { total: number; completed: number; failed: number };
  completed_at: number | null;
  failed_at: number | null;
  cancelled_at: number | null;
}

/** What the batch API served: uploads, batches created, lines answered (for tests: a file submitted twice shows here). */
export interface SimBatchStats {
  files: number;
  batches: number;
  /** input_file_id -> batches created from it (more than 1 = a file submitted twice). */
  batchesPerFile: Record<string, number>;
  /** Lines per input file, in upload order. */
  linesPerFile: number[];
  /** Choices served with content, by role. */
  samples: { teacher: number; student: number };
  completed: number;
}

export interface SimBatchApi {
  /** Handles a /v1/files or /v1/batches request; false when the path is not one of these. */
  route(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<boolean>;
  stats(): SimBatchStats;
}

function readRaw(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new HttpError(413, `file larger than ${limit} bytes`, 'invalid_request_error', 'file_too_large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const now = () => Math.floor(Date.now() / 1000);

export function createSimBatchApi(settings: () => Readonly<SimSettings>): SimBatchApi {
  const files = new Map<string, SimFile>();
  const batches = new Map<string, SimBatch>();
  let counter = 0;
  const stats: SimBatchStats = {
    files: 0,
    batches: 0,
    batchesPerFile: {},
    linesPerFile: [],
    samples: { teacher: 0, student: 0 },
    completed: 0,
  };

  const fileObject = (f: SimFile) => ({
    id: f.id,
    object: 'file',
    bytes: f.bytes,
    created_at: f.created_at,
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed',
  });
  const batchObject = (b: SimBatch) => {
    const { createdMs: _c, ...rest } = b;
    return { ...rest, object: 'batch', expires_at: b.created_at + 86_400, in_progress_at: b.created_at };
  };
  const addFile = (filename: string, purpose: string, content: string): SimFile => {
    const f = { id: `file-sim-${++counter}`, filename, purpose, bytes: Buffer.byteLength(content), created_at: now(), content };
    files.set(f.id, f);
    return f;
  };
  const newestFirst = <T extends { created_at: number; id: string }>(xs: Iterable<T>): T[] =>
    [...xs].sort((a, b) => b.created_at - a.created_at || Number(b.id.split('-').pop()) - Number(a.id.split('-').pop()));

  /** One line's answer, as `/v1/chat/completions` would give it (status and body). */
  async function answerLine(s: Readonly<SimSettings>, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    const err = (status: number, message: string, code: string | null) => ({
      status,
      body: { error: { message, type: 'invalid_request_error', param: null, code } },
    });
    const model = typeof body.model === 'string' ? body.model : '';
    const role = roleOf(model);
    if (!role) return err(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'model_not_found');
    let messages;
    try {
      messages = parseMessages(body.messages);
    } catch (e) {
      if (e instanceof HttpError) return err(e.status, e.message, e.code);
      throw e;
    }
    const n = body.n === undefined || body.n === null ? 1 : body.n;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 128)
      return err(400, "'n' must be an integer from 1 to 128", 'invalid_value');
    const promptChars = messages.reduce((a, m) => a + m.content.length, 0);
    if (s.contextLimitChars > 0 && promptChars > s.contextLimitChars)
      return err(400, `This model's maximum context length is ${tokens(s.contextLimitChars)} tokens.`, 'context_length_exceeded');
    const seed = typeof body.seed === 'number' && Number.isFinite(body.seed) ? body.seed : null;
    const choices = await answer(s, role, model, messages, seed, s.nCap > 0 ? Math.min(n, s.nCap) : n);
    stats.samples[role] += choices.filter((c) => c.content !== null).length;
    const completion = choices.reduce((a, c) => a + tokens((c.content?.length ?? 0) + (c.reasoning?.length ?? 0)), 0);
    return {
      status: 200,
      body: {
        id: `chatcmpl-simbatch-${++counter}`,
        object: 'chat.completion',
        created: now(),
        model,
        choices: choices.map((c, index) => ({
          index,
          message: { role: 'assistant', content: c.content, ...(c.reasoning !== null ? { reasoning_content: c.reasoning } : {}) },
          finish_reason: 'stop',
        })),
        usage: { prompt_tokens: tokens(promptChars), completion_tokens: completion, total_tokens: tokens(promptChars) + completion },
      },
    };
  }

  /** Validates the input file; an invalid one fails the batch (as OpenAI's validation step does). */
  function validate(b: SimBatch, f: SimFile | undefined): void {
    const fail = (message: string, line: number | null = null) => {
      b.status = 'failed';
      b.failed_at = now();
      b.errors = { object: 'list', data: [{ code: 'invalid_file', message, line }] };
    };
    if (!f) return fail(`input file ${b.input_file_id} not found`);
    if (f.purpose !== 'batch') return fail(`file ${f.id} has purpose ${f.purpose}, not batch`);
    const lines = f.content.split('\n').filter((l) => l.trim() !== '');
    b.request_counts.total = lines.length;
    if (lines.length > settings().batchMaxRequests)
      return fail(`the file has ${lines.length} requests, more than the limit of ${settings().batchMaxRequests} per batch`);
    if (f.bytes > MAX_FILE_BYTES) return fail(`the file is ${f.bytes} bytes, more than 200 MB`);
    const ids = new Set<string>();
    for (const [i, l] of lines.entries()) {
      let v: { custom_id?: unknown; method?: unknown; url?: unknown; body?: unknown };
      try {
        v = JSON.parse(l) as typeof v;
      } catch {
        return fail('line is not JSON', i + 1);
      }
      if (typeof v.custom_id !== 'string' || ids.has(v.custom_id)) return fail('custom_id missing or not unique', i + 1);
      ids.add(v.custom_id);
      if (v.method !== 'POST' || v.url !== b.endpoint || typeof v.body !== 'object' || v.body === null)
        return fail(`each line needs method POST, url ${b.endpoint} and a body`, i + 1);
    }
    b.status = 'in_progress';
  }

  /** Answers every line once the delay has passed (on the first read after it). */
  async function advance(b: SimBatch): Promise<void> {
    if (b.status !== 'in_progress' || Date.now() - b.createdMs < settings().batchDelayMs) return;
    b.status = 'finalizing';
    const s = settings();
    const out: string[] = [];
    const errs: string[] = [];
    for (const l of (files.get(b.input_file_id)?.content ?? '').split('\n')) {
      if (!l.trim()) continue;
      const v = JSON.parse(l) as { custom_id: string; body: Record<string, unknown> };
      const r = await answerLine(s, v.body);
      const line = JSON.stringify({
        id: `batch_req_sim_${++counter}`,
        custom_id: v.custom_id,
        response: { status_code: r.status, request_id: `req_sim_${counter}`, body: r.body },
        error: null,
      });
      (r.status === 200 ? out : errs).push(line);
    }
    b.request_counts.completed = out.length;
    b.request_counts.failed = errs.length;
    if (out.length) b.output_file_id = addFile(`${b.id}_output.jsonl`, 'batch_output', out.join('\n') + '\n').id;
    if (errs.length) b.error_file_id = addFile(`${b.id}_error.jsonl`, 'batch_output', errs.join('\n') + '\n').id;
    b.status = 'completed';
    b.completed_at = now();
    stats.completed++;
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<boolean> {
    const m = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sim');
    if (path === '/v1/files' && m === 'POST') {
      const raw = await readRaw(req, MAX_FILE_BYTES + 1024 * 1024);
      let form: FormData;
      try {
        form = await new Response(raw, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
      } catch {
        throw new HttpError(
          400,
          'the body must be multipart/form-data with fields purpose and file',
          'invalid_request_error',
          'invalid_body',
        );
      }
      const purpose = form.get('purpose');
      const file = form.get('file');
      if (typeof purpose !== 'string' || !purpose)
        throw new HttpError(400, "'purpose' is required", 'invalid_request_error', null, 'purpose');
      if (!file || typeof file === 'string') throw new HttpError(400, "'file' is required", 'invalid_request_error', null, 'file');
      const f = addFile(file.name || 'upload.jsonl', purpose, await file.text());
      stats.files++;
      if (purpose === 'batch') stats.linesPerFile.push(f.content.split('\n').filter((l) => l.trim()).length);
      send(res, 200, fileObject(f));
      return true;
    }
    if (path === '/v1/files' && m === 'GET') {
      const purpose = url.searchParams.get('purpose');
      const data = newestFirst([...files.values()].filter((f) => !purpose || f.purpose === purpose)).map(fileObject);
      send(res, 200, { object: 'list', data, has_more: false });
      return true;
    }
    const fm = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
    if (fm && m === 'GET') {
      const f = files.get(fm[1] as string);
      if (!f) throw new HttpError(404, `No such File object: ${fm[1]}`, 'invalid_request_error', null, 'id');
      if (!fm[2]) send(res, 200, fileObject(f));
      else {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(f.content) });
        res.end(f.content);
      }
      return true;
    }
    if (path === '/v1/batches' && m === 'POST') {
      const raw = (await readRaw(req, 1024 * 1024)).toString('utf8');
      let body: { input_file_id?: unknown; endpoint?: unknown; completion_window?: unknown; metadata?: unknown };
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        throw new HttpError(400, 'the body must be a JSON object', 'invalid_request_error', 'invalid_json');
      }
      if (typeof body.input_file_id !== 'string')
        throw new HttpError(400, "'input_file_id' is required", 'invalid_request_error', null, 'input_file_id');
      if (body.endpoint !== '/v1/chat/completions')
        throw new HttpError(400, "'endpoint' must be /v1/chat/completions here", 'invalid_request_error', null, 'endpoint');
      if (body.completion_window !== '24h')
        throw new HttpError(400, "'completion_window' must be 24h", 'invalid_request_error', null, 'completion_window');
      const b: SimBatch = {
        id: `batch_sim_${++counter}`,
        input_file_id: body.input_file_id,
        endpoint: body.endpoint,
        completion_window: '24h',
        metadata: (body.metadata as Record<string, string> | undefined) ?? null,
        status: 'validating',
        created_at: now(),
        createdMs: Date.now(),
        output_file_id: null,
        error_file_id: null,
        errors: null,
        request_counts: { total: 0, completed: 0, failed: 0 },
        completed_at: null,
        failed_at: null,
        cancelled_at: null,
      };
      validate(b, files.get(b.input_file_id));
      batches.set(b.id, b);
      stats.batches++;
      stats.batchesPerFile[b.input_file_id] = (stats.batchesPerFile[b.input_file_id] ?? 0) + 1;
      send(res, 200, batchObject(b));
      return true;
    }
    if (path === '/v1/batches' && m === 'GET') {
      const all = newestFirst(batches.values());
      for (const b of all) await advance(b);
      send(res, 200, {
        object: 'list',
        data: all.map(batchObject),
        has_more: false,
        first_id: all[0]?.id ?? null,
        last_id: all.at(-1)?.id ?? null,
      });
      return true;
    }
    const bm = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    if (bm) {
      const b = batches.get(bm[1] as string);
      if (!b) throw new HttpError(404, `No batch found with id '${bm[1]}'.`, 'invalid_request_error', null, 'batch_id');
      if (bm[2] && m === 'POST') {
        if (b.status === 'in_progress' || b.status === 'validating') {
          b.status = 'cancelled';
          b.cancelled_at = now();
        }
      } else if (m === 'GET') await advance(b);
      else return false;
      send(res, 200, batchObject(b));
      return true;
    }
    return false;
  }

  return {
    route,
    stats: () => ({
      ...stats,
      batchesPerFile: { ...stats.batchesPerFile },
      linesPerFile: [...stats.linesPerFile],
      samples: { ...stats.samples },
    }),
  };
}
