/**
 * The batch API collector of one role: a loop in each worker process of a role whose API is
 * 'batch'; one at a time fleet-wide holds the role's Postgres advisory lock and does the work.
 * Each tick, every step is driven by the state in Postgres, so a crash anywhere resumes:
 *  1. files not yet submitted are finished: 'open' -> uploaded (an upload whose id was not recorded
 *     is found by its file name) -> submitted (a batch created but not recorded is found by its
 *     input file id): a file is never submitted twice;
 *  2. queued requests are packed into new files (limits: requests and bytes per file), each file
 *     row created with its requests in one transaction before anything is uploaded;
 *  3. submitted batches are polled; a finished one's output is stored in llm_calls (insert-or-get:
 *     repeating it is harmless), its refused lines are recorded, its unanswered ones re-queued;
 *  4. the workflows waiting for answered requests are signalled (again after a crash: a second
 *     signal only makes the seed look in the cache once more).
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import OpenAI, { toFile } from 'openai';
import type { Pool } from 'pg';
import type { Database } from '../../../db/client';
import {
  batchFilesIn,
  createBatchFile,
  finishBatchRequest,
  markNotified,
  queuedRequests,
  queuedSummary,
  requeueBatchRequests,
  requestsOfFile,
  unnotifiedRequests,
  updateBatchFile,
} from '../../../db/queries/llm-batch';
import type { LlmBatchFile, LlmBatchRequest } from '../../../db/schema';
import { llmBatchReadySignal } from '../../../workflows/contracts';
import { llmRequests, llmSamplesPaid, llmTokens } from '../../cairn-metrics';
import { storePaid } from '../sampler';
import { sampleHash } from '../sample-key';
import type { BatchEndpoint } from './batch-client';
import { CHAT_URL, fileKeyOf, fileNameOf, lineOf, packFile, parseResults, retryableLine, type ChatBody } from './batch-lines';

export interface CollectorEndpoint extends BatchEndpoint {
  batch: { maxRequests: number; maxBytes: number; collectMs: number; pollMs: number; completionWindow: string };
}

export interface CollectorDeps {
  db: Database;
  pool: Pool;
  role: string;
  ep: CollectorEndpoint;
  temporal: Client;
  log?: (msg: string) => void;
  /** How often the queue is looked at (default: the poll interval, within 0.1-1 s). */
  tickMs?: number;
  /** false: no loop, the caller ticks (tests). */
  loop?: boolean;
}

/** A file whose requests come back unanswered this many times fails them (a request the batch API cannot take). */
const MAX_TRIES = 5;
const FINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

export interface Collector {
  /** One pass (tests and the loop); false when another process holds the role's lock. */
  tick(): Promise<boolean>;
  stop(): Promise<void>;
}

export function startBatchCollector(d: CollectorDeps): Collector {
  const { db, role, ep } = d;
  const log = d.log ?? (() => undefined);
  const openai = new OpenAI({ baseURL: ep.baseURL, apiKey: ep.apiKey, maxRetries: 2, timeout: ep.timeoutMs });
  const lastPoll = new Map<string, number>();
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let lastError = '';

  async function tick(): Promise<boolean> {
    const conn = await d.pool.connect();
    let locked = false;
    try {
      const got = await conn.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [`cairn-batch-api-${role}`]);
      locked = got.rows[0]?.ok === true;
      if (!locked) return false;
      for (const f of await batchFilesIn(db, role, ['open', 'uploaded'])) await submit(f);
      await pack();
      for (const f of await batchFilesIn(db, role, ['submitted'])) await poll(f);
      await notify();
      return true;
    } finally {
      if (locked) await conn.query('select pg_advisory_unlock(hashtext($1))', [`cairn-batch-api-${role}`]).catch(() => undefined);
      conn.release();
    }
  }

  async function pack(): Promise<void> {
    for (;;) {
      const sum = await queuedSummary(db, role);
      if (!sum.oldest) return;
      const age = Date.now() - sum.oldest.getTime();
      if (sum.n < ep.batch.maxRequests && sum.bytes <= ep.batch.maxBytes && age < ep.batch.collectMs) return; // keep collecting
      const queued = await queuedRequests(db, role, ep.batch.maxRequests + 1);
      const oldest = queued[0];
      if (!oldest) return;
      const files = packFile(queued, ep.batch, Date.now() - oldest.createdAt.getTime(), ep.batch.collectMs);
      if (!files) return;
      const ids = files.map((r) => r.id);
      const bytes = files.reduce((a, r) => a + r.bytes, 0);
      // A re-queued request goes into a new file: its try count is part of the key.
      const key = fileKeyOf(
        role,
        files.map((r) => `${r.id}:${r.tries}`),
      );
      const file = await createBatchFile(db, { key, role, requests: ids.length, bytes }, ids);
      if (!file) return; // another collector took some of them: look again next tick
      log(`batch API (${role}): file ${file.key} with ${ids.length} requests, ${bytes} bytes`);
      await submit(file, true);
    }
  }

  async function contentOf(file: LlmBatchFile): Promise<string> {
    return (await requestsOfFile(db, file.key)).map((r) => lineOf(r.id, r.body)).join('\n') + '\n';
  }

  /** open -> uploaded -> submitted, each step recorded; a step done but not recorded is found at the provider. */
  async function submit(file: LlmBatchFile, fresh = false): Promise<void> {
    let fileId = file.fileId;
    // The provider lists newest first: what this file may have left there is no older than the row (minus clock skew).
    const since = file.createdAt.getTime() / 1000 - 3600;
    if (file.state === 'open') {
      const name = fileNameOf(file.key);
      fileId = null;
      if (!fresh) {
        for await (const f of openai.files.list({ purpose: 'batch', order: 'desc' })) {
          if (f.created_at < since) break;
          if (f.filename === name && f.status !== 'error') {
            fileId = f.id;
            break;
          }
        }
      }
      if (!fileId) {
        fresh = true;
        const text = await contentOf(file);
        const up = await openai.files.create(
          {
            file: await toFile(Buffer.from(text), name, { type: 'application/jsonl' }),
            purpose: 'batch',
          },
          // Not retried blind either: the next tick looks for an upload whose answer was lost by its name.
          { maxRetries: 0 },
        );
        fileId = up.id;
      }
      await updateBatchFile(db, file.key, { state: 'uploaded', fileId });
    }
    if (!fileId) throw new Error(`batch file ${file.key} is '${file.state}' without a file id`);
    let batchId: string | null = null;
    // A file uploaded just now has no batch yet; else one may have been created before a crash.
    if (!fresh) {
      for await (const b of openai.batches.list({ limit: 100 })) {
        if (b.created_at < since) break;
        if (b.input_file_id === fileId || b.metadata?.cairn_file === file.key) {
          batchId = b.id;
          break;
        }
      }
    }
    if (!batchId) {
      const b = await openai.batches.create(
        {
          input_file_id: fileId,
          endpoint: CHAT_URL,
          completion_window: ep.batch.completionWindow as '24h',
          metadata: { cairn_file: file.key },
        },
        // Never retried blind: a create whose answer was lost may have made the batch; the next tick looks for it first.
        { maxRetries: 0 },
      );
      batchId = b.id;
      log(`batch API (${role}): submitted ${file.key} as batch ${batchId}`);
    }
    await updateBatchFile(db, file.key, { state: 'submitted', batchId, submittedAt: new Date() });
  }

  async function poll(file: LlmBatchFile): Promise<void> {
    if (!file.batchId) return;
    const last = lastPoll.get(file.key) ?? 0;
    if (Date.now() - last < ep.batch.pollMs) return;
    lastPoll.set(file.key, Date.now());
    const b = await openai.batches.retrieve(file.batchId);
    if (b.status !== file.status) await updateBatchFile(db, file.key, { status: b.status });
    if (!FINAL.has(b.status)) return;
    const requests = new Map((await requestsOfFile(db, file.key)).map((r) => [r.id, r]));
    for (const fid of [b.output_file_id, b.error_file_id]) {
      if (!fid) continue;
      const text = await (await openai.files.content(fid)).text();
      for (const line of parseResults(text)) {
        const req = requests.get(line.customId);
        if (!req || req.state !== 'sent') continue;
        if (line.ok) {
          await store(req, line.body, file);
          await finishBatchRequest(db, req.id, file.key, { state: 'done' });
        } else if (!retryableLine(line.status) || req.tries >= MAX_TRIES) {
          await finishBatchRequest(db, req.id, file.key, {
            state: 'failed',
            error: `${line.status ?? 'error'}: ${line.message}`.slice(0, 1000),
          });
        } else continue; // left 'sent': re-queued below
        req.state = 'done';
      }
    }
    // Lines without an answer (an expired or cancelled batch, a lost line) go into a later file.
    const stuck = [...requests.values()].filter((r) => r.state === 'sent');
    for (const r of stuck.filter((x) => x.tries >= MAX_TRIES)) {
      await finishBatchRequest(db, r.id, file.key, {
        state: 'failed',
        error: `no answer after ${r.tries} batch files (last batch ${b.id}: ${b.status}${b.errors?.data?.[0]?.message ? `, ${b.errors.data[0].message}` : ''})`,
      });
    }
    const requeued = await requeueBatchRequests(db, file.key);
    await updateBatchFile(db, file.key, {
      state: b.status === 'completed' ? 'collected' : 'failed',
      status: b.status,
      outputFileId: b.output_file_id ?? null,
      errorFileId: b.error_file_id ?? null,
      finishedAt: new Date(),
      error: b.status === 'completed' ? null : (b.errors?.data?.map((e) => e.message).join('; ') ?? b.status).slice(0, 1000),
    });
    lastPoll.delete(file.key);
    log(`batch API (${role}): batch ${b.id} ${b.status}; ${requests.size - stuck.length} answered, ${requeued} re-queued`);
  }

  /** Stores a line's choices as the online sampler does: one llm_calls row per sample, usage shared out. */
  async function store(req: LlmBatchRequest, body: ChatBody, file: LlmBatchFile): Promise<void> {
    const choices = [...(body.choices ?? [])]
      .filter((c) => c && typeof c.index === 'number')
      .sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const usable = choices
      .slice(0, req.indices.length)
      .map((c, j) => ({ idx: req.indices[j] as number, text: c.message?.content }))
      .filter((c): c is { idx: number; text: string } => typeof c.text === 'string');
    const prompt = body.usage?.prompt_tokens ?? 0;
    const completion = body.usage?.completion_tokens ?? 0;
    const share = usable.length ? Math.floor(completion / usable.length) : 0;
    // The same metrics as online requests (a batch line is a request; outcome 'ok').
    llmRequests.inc({ role, outcome: 'ok' });
    llmTokens.inc({ role, kind: 'prompt' }, prompt);
    llmTokens.inc({ role, kind: 'completion' }, completion);
    llmSamplesPaid.inc({ role }, usable.length);
    const { model, messages, ...rest } = req.body as { model: string; messages: unknown[] } & Record<string, unknown>;
    for (const [j, c] of usable.entries()) {
      await storePaid(
        { db, role },
        {
          requestHash: sampleHash(req.requestKey, c.idx),
          requestKey: req.requestKey,
          sample: c.idx,
          role,
          model,
          request: { messages, params: { ...rest, batch: file.batchId } },
          choices: [c.text],
          promptTokens: j === 0 ? prompt : 0,
          completionTokens: j === 0 ? completion - share * (usable.length - 1) : share,
          latencyMs: Date.now() - req.createdAt.getTime(),
        },
      );
    }
  }

  async function notify(): Promise<void> {
    for (const r of await unnotifiedRequests(db, role)) {
      for (const w of r.waiters) {
        await d.temporal.workflow
          .getHandle(w)
          .signal(llmBatchReadySignal)
          .catch((err: unknown) => {
            // A seed that has ended needs nothing; anything else (Temporal away) is tried again next tick.
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          });
      }
      await markNotified(db, r.id, r.waiters);
    }
  }

  const loop = async () => {
    while (!stopped) {
      try {
        await tick();
        lastError = '';
      } catch (err) {
        const msg = String((err as Error)?.message ?? err);
        if (msg !== lastError) log(`batch API (${role}) collector: ${msg}; trying again`);
        lastError = msg;
      }
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, d.tickMs ?? Math.max(100, Math.min(1000, ep.batch.pollMs)));
      });
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let wake: () => void = () => undefined;
  if (d.loop !== false) running = loop();

  return {
    tick,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      wake();
      await running;
    },
  };
}
