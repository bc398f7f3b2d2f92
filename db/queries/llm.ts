import { eq, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { llmCalls, type LlmCall } from '../schema';

export async function findLlmCall(db: Database, requestHash: string): Promise<LlmCall | undefined> {
  const [row] = await db.select().from(llmCalls).where(eq(llmCalls.requestHash, requestHash)).limit(1);
  return row;
}

/** Insert-or-get: two racing callers end with the same row (the first answer wins). */
export async function insertLlmCall(db: Database, call: typeof llmCalls.$inferInsert): Promise<LlmCall> {
  const [row] = await db.insert(llmCalls).values(call).onConflictDoNothing().returning();
  if (row) return row;
  const existing = await findLlmCall(db, call.requestHash);
  if (!existing) throw new Error(`llm_calls row ${call.requestHash} vanished after a conflict`);
  return existing;
}

/** Counts a cache hit (an activity retried after a crash, a resumed batch, an identical request). */
export async function countCacheHit(db: Database, id: number): Promise<void> {
  await db.update(llmCalls).set({ cacheHits: sql`${llmCalls.cacheHits} + 1` }).where(eq(llmCalls.id, id));
}
