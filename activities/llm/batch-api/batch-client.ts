/**
 * The LLM client of a role on the provider's batch API (CAIRN_<ROLE>_API=batch). Same cache as the
 * online client (the same request key and sample indices, so a sample is one llm_calls row however
 * it was paid for): it answers from the cache when every sample is there; else it queues the
 * missing samples in llm_batch_requests (natural key, so a retry finds them), names the waiting
 * workflow, and fails with ERR.llmBatchPending. The seed workflow then waits for the collector's
 * signal and calls the activity again, which finds the samples in the cache. No worker slot is
 * held while the batch runs, and the wait is Temporal's (durable across worker and server restarts).
 */
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '../../../db/client';
import { batchRequestsOfKey, enqueueBatchRequest } from '../../../db/queries/llm-batch';
import { countCacheHits, findLlmCalls } from '../../../db/queries/llm';
import type { LlmBatchRequest } from '../../../db/schema';
import { ERR } from '../../../workflows/contracts';
import { llmCacheHits } from '../../cairn-metrics';
import { endpointHost } from '../../usage-recorder';
import type { LlmClient, LlmEndpoint } from '../llm-client';
import { requestKey, sampleHash } from '../sample-key';
import { groupsOf } from '../sampler';
import { lineBytes } from './batch-lines';

/** What the batch client needs beyond an online endpoint. */
export interface BatchEndpoint extends LlmEndpoint {
  batch: { maxBytes: number };
}

/** Batches that answered a request short (null content, fewer choices) before the activity gives up for now. */
const TOP_UP_ROUNDS = 4;

function waitingWorkflow(): string | null {
  try {
    return Context.current().info.workflowExecution?.workflowId ?? null;
  } catch {
    return null;
  }
}

const covers = (r: LlmBatchRequest, idx: number[]) => r.indices.some((i) => idx.includes(i));

export function createBatchLlmClient(db: Database, role: string, ep: BatchEndpoint): LlmClient {
  const host = endpointHost(ep.baseURL);
  const envName = `CAIRN_${role.toUpperCase()}`;
  return {
    role,
    model: ep.model,
    provenance: { model: ep.model, endpointHost: host, useN: ep.useN, extraBody: ep.extraBody, api: 'batch' },
    async complete(messages, { n, sample }) {
      const params = { ...ep.extraBody };
      const key = requestKey(host, ep.model, messages, params);
      const first = (sample ?? 0) * 1000;
      const indices = Array.from({ length: n }, (_, i) => first + i);
      const rows = new Map(
        (
          await findLlmCalls(
            db,
            indices.map((i) => sampleHash(key, i)),
          )
        ).map((r) => [r.sample ?? -1, r]),
      );
      const batched = await batchRequestsOfKey(db, key);
      const me = waitingWorkflow();
      const missing = indices.filter((i) => !rows.has(i));
      if (missing.length === 0) {
        // Samples a batch brought for this very workflow are not cache hits: it waited and paid for them.
        const mine = new Set(batched.filter((r) => r.state === 'done' && me !== null && r.waiters.includes(me)).flatMap((r) => r.indices));
        const hits = [...rows.values()].filter((r) => !mine.has(r.sample ?? -1)).map((r) => r.id);
        await countCacheHits(db, hits);
        if (hits.length) llmCacheHits.inc({ role }, hits.length);
        const ordered = indices.flatMap((i) => rows.get(i) ?? []);
        return {
          callId: ordered[0]?.id ?? 0,
          callIds: ordered.map((r) => r.id),
          choices: ordered.map((r) => r.choices[0] ?? ''),
          cached: mine.size === 0,
        };
      }
      const refused = batched.find((r) => r.state === 'failed' && covers(r, missing));
      if (refused) {
        throw ApplicationFailure.create({
          type: ERR.llmRequestInvalid,
          nonRetryable: true,
          message: `the ${role} endpoint (model ${ep.model}) refused this request in its batch: ${refused.error ?? 'no reason given'}`,
        });
      }
      // Already in the queue or in a file: just wait for it too.
      const inFlight = batched.filter((r) => (r.state === 'queued' || r.state === 'sent') && covers(r, missing));
      for (const r of inFlight) await enqueueBatchRequest(db, r, me);
      const covered = new Set(inFlight.flatMap((r) => r.indices));
      const uncovered = missing.filter((i) => !covered.has(i));
      const rounds = batched.filter((r) => r.state === 'done').length;
      if (uncovered.length > 0 && rounds >= TOP_UP_ROUNDS && inFlight.length === 0) {
        throw ApplicationFailure.create({
          type: ERR.llmShortfall,
          message: `the ${role} endpoint ${ep.baseURL} (model ${ep.model}) answered ${n - missing.length} of ${n} samples (the rest empty or missing) after ${rounds} batches; asking again`,
        });
      }
      let queued = 0;
      for (const group of groupsOf(uncovered, ep.useN ? Number.POSITIVE_INFINITY : 1)) {
        const firstIdx = group[0] ?? 0;
        // As online: `seed` tells otherwise identical requests apart (sampler.ts askGroup).
        const seed = firstIdx === 0 && sample === undefined ? undefined : firstIdx;
        const body = { ...params, model: ep.model, messages, n: group.length, ...(seed === undefined ? {} : { seed }) };
        const id = createHash('sha256')
          .update(`${key}|${group.join(',')}|${rounds}`)
          .digest('hex');
        const bytes = lineBytes(id, body);
        if (bytes > ep.batch.maxBytes) {
          throw ApplicationFailure.create({
            type: ERR.llmRequestInvalid,
            nonRetryable: true,
            message: `this ${role} request is ${bytes} bytes as a batch line, more than a batch file may hold (${envName}_BATCH_MAX_BYTES=${ep.batch.maxBytes})`,
          });
        }
        const row = await enqueueBatchRequest(db, { id, role, requestKey: key, indices: group, body, bytes }, me);
        // Answered between our read and our write: the samples are in the cache now.
        if (row.state === 'done' || row.state === 'failed') return this.complete(messages, { n, sample });
        queued++;
      }
      throw ApplicationFailure.create({
        type: ERR.llmBatchPending,
        nonRetryable: true,
        message: `${missing.length} ${role} sample(s) wait for the provider's batch API (${inFlight.length + queued} batch request(s)); the seed waits for them`,
      });
    },
  };
}
