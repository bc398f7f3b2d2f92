/** The provider batch API's queue (llm_batch_requests) and files (llm_batch_files); see activities/llm/batch-api. */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { llmBatchFiles, llmBatchRequests, type LlmBatchFile, type LlmBatchRequest } from '../schema';

/**
 * Queues a request (or finds it, by its natural key) and adds `waiter` to the workflows told when
 * it is done. Returns the row as it is now: a retried activity finds its request where it was.
 */
export async function enqueueBatchRequest(
  db: Database,
  row: Pick<LlmBatchRequest, 'id' | 'role' | 'requestKey' | 'indices' | 'body' | 'bytes'>,
  waiter: string | null,
): Promise<LlmBatchRequest> {
  const waiters = waiter ? [waiter] : [];
  const [got] = await db
    .insert(llmBatchRequests)
    .values({ ...row, waiters })
    .onConflictDoUpdate({
      target: llmBatchRequests.id,
      set: {
        waiters: sql`case when ${llmBatchRequests.waiters} @> ${JSON.stringify(waiters)}::jsonb then ${llmBatchRequests.waiters} else ${llmBatchRequests.waiters} || ${JSON.stringify(waiters)}::jsonb end`,
        // A new waiter of a request already answered must still hear of it.
        notified: sql`case when ${llmBatchRequests.waiters} @> ${JSON.stringify(waiters)}::jsonb then ${llmBatchRequests.notified} else 0 end`,
      },
    })
    .returning();
  if (!got) throw new Error(`llm_batch_requests row ${row.id} was neither inserted nor found`);
  return got;
}

export async function batchRequestsOfKey(db: Database, requestKey: string): Promise<LlmBatchRequest[]> {
  return db.select().from(llmBatchRequests).where(eq(llmBatchRequests.requestKey, requestKey));
}

/** How much is queued for a role (cheap: the collector looks every tick). */
export async function queuedSummary(db: Database, role: string): Promise<{ n: number; bytes: number; oldest: Date | null }> {
  const [row] = await db
    .select({
      n: sql<number>`count(*)::int`,
      bytes: sql<number>`coalesce(sum(${llmBatchRequests.bytes}), 0)::bigint`,
      oldest: sql<string | null>`min(${llmBatchRequests.createdAt})`,
    })
    .from(llmBatchRequests)
    .where(and(eq(llmBatchRequests.role, role), eq(llmBatchRequests.state, 'queued')));
  return { n: Number(row?.n ?? 0), bytes: Number(row?.bytes ?? 0), oldest: row?.oldest ? new Date(row.oldest) : null };
}

/** The oldest queued requests of a role (what the next file is packed from), up to `limit`; no bodies. */
export async function queuedRequests(
  db: Database,
  role: string,
  limit: number,
): Promise<Pick<LlmBatchRequest, 'id' | 'bytes' | 'tries' | 'createdAt'>[]> {
  return db
    .select({
      id: llmBatchRequests.id,
      bytes: llmBatchRequests.bytes,
      tries: llmBatchRequests.tries,
      createdAt: llmBatchRequests.createdAt,
    })
    .from(llmBatchRequests)
    .where(and(eq(llmBatchRequests.role, role), eq(llmBatchRequests.state, 'queued')))
    .orderBy(asc(llmBatchRequests.createdAt), asc(llmBatchRequests.id))
    .limit(limit);
}

/**
 * Creates a file row and moves its requests into it, in one transaction: a request is in one file
 * at a time, and a file exists with all its requests or not at all. Requests no longer queued (a
 * racing collector took them) make the whole file fail to form (returns null).
 */
export async function createBatchFile(
  db: Database,
  file: Pick<LlmBatchFile, 'key' | 'role' | 'requests' | 'bytes'>,
  ids: string[],
): Promise<LlmBatchFile | null> {
  return db
    .transaction(async (tx) => {
      const moved = await tx
        .update(llmBatchRequests)
        .set({ state: 'sent', fileKey: file.key, tries: sql`${llmBatchRequests.tries} + 1` })
        .where(and(inArray(llmBatchRequests.id, ids), eq(llmBatchRequests.state, 'queued')))
        .returning({ id: llmBatchRequests.id });
      if (moved.length !== ids.length) {
        tx.rollback();
        return null;
      }
      const [row] = await tx.insert(llmBatchFiles).values(file).returning();
      return row ?? null;
    })
    .catch((err: unknown) => {
      if (err instanceof Error && err.message === 'Rollback') return null;
      throw err;
    });
}

export async function batchFilesIn(db: Database, role: string, states: string[]): Promise<LlmBatchFile[]> {
  return db
    .select()
    .from(llmBatchFiles)
    .where(and(eq(llmBatchFiles.role, role), inArray(llmBatchFiles.state, states)))
    .orderBy(asc(llmBatchFiles.createdAt));
}

export async function updateBatchFile(db: Database, key: string, patch: Partial<LlmBatchFile>): Promise<void> {
  await db.update(llmBatchFiles).set(patch).where(eq(llmBatchFiles.key, key));
}

export async function requestsOfFile(db: Database, fileKey: string): Promise<LlmBatchRequest[]> {
  return db.select().from(llmBatchRequests).where(eq(llmBatchRequests.fileKey, fileKey)).orderBy(asc(llmBatchRequests.id));
}

/** Marks a request answered (done) or refused (failed); returns the waiters to tell, or null when it was not in that file any more. */
export async function finishBatchRequest(
  db: Database,
  id: string,
  fileKey: string,
  outcome: { state: 'done' | 'failed'; error?: string },
): Promise<void> {
  await db
    .update(llmBatchRequests)
    .set({ state: outcome.state, error: outcome.error ?? null, doneAt: new Date(), notified: 0 })
    .where(and(eq(llmBatchRequests.id, id), eq(llmBatchRequests.fileKey, fileKey), eq(llmBatchRequests.state, 'sent')));
}

/** Puts the unanswered requests of a file back in the queue (a failed, expired or cancelled batch). */
export async function requeueBatchRequests(db: Database, fileKey: string): Promise<number> {
  const rows = await db
    .update(llmBatchRequests)
    .set({ state: 'queued', fileKey: null })
    .where(and(eq(llmBatchRequests.fileKey, fileKey), eq(llmBatchRequests.state, 'sent')))
    .returning({ id: llmBatchRequests.id });
  return rows.length;
}

/** Answered requests whose waiters have not all been told yet. */
export async function unnotifiedRequests(db: Database, role: string, limit = 1000): Promise<LlmBatchRequest[]> {
  return db
    .select()
    .from(llmBatchRequests)
    .where(and(eq(llmBatchRequests.role, role), inArray(llmBatchRequests.state, ['done', 'failed']), eq(llmBatchRequests.notified, 0)))
    .limit(limit);
}

/** Records that the waiters were told; a waiter added since (the row changed) keeps it unnotified. */
export async function markNotified(db: Database, id: string, waiters: string[]): Promise<void> {
  await db
    .update(llmBatchRequests)
    .set({ notified: 1 })
    .where(and(eq(llmBatchRequests.id, id), sql`${llmBatchRequests.waiters} = ${JSON.stringify(waiters)}::jsonb`));
}

/** Per-role counts by state, for `batch status`-style reporting and the tests. */
export async function batchApiCounts(db: Database): Promise<{ requests: Record<string, number>; files: Record<string, number> }> {
  const r = await db
    .select({ role: llmBatchRequests.role, state: llmBatchRequests.state, n: sql<number>`count(*)::int` })
    .from(llmBatchRequests)
    .groupBy(llmBatchRequests.role, llmBatchRequests.state);
  const f = await db
    .select({ role: llmBatchFiles.role, state: llmBatchFiles.state, n: sql<number>`count(*)::int` })
    .from(llmBatchFiles)
    .groupBy(llmBatchFiles.role, llmBatchFiles.state);
  return {
    requests: Object.fromEntries(r.map((x) => [`${x.role}/${x.state}`, x.n])),
    files: Object.fromEntries(f.map((x) => [`${x.role}/${x.state}`, x.n])),
  };
}
