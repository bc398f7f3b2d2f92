import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { llmCalls, type LlmCall } from '../schema';

export async function findLlmCall(db: Database, requestHash: string): Promise<LlmCall | undefined> {
  const [row] = await db.select().from(llmCalls).where(eq(llmCalls.requestHash, requestHash)).limit(1);
  return row;
}

/** The cached samples among these keys (any order). */
export async function findLlmCalls(db: Database, requestHashes: string[]): Promise<LlmCall[]> {
  if (requestHashes.length === 0) return [];
  return db.select().from(llmCalls).where(inArray(llmCalls.requestHash, requestHashes));
}

/** The completion texts of these sample rows, by id. */
export async function sampleTexts(db: Database, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: llmCalls.id, choices: llmCalls.choices }).from(llmCalls).where(inArray(llmCalls.id, ids));
  return new Map(rows.map((r) => [r.id, r.choices[0] ?? '']));
}

/** Which of these sample rows the server cut at max_tokens (finish_reason length). */
export async function truncatedCalls(db: Database, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: llmCalls.id })
    .from(llmCalls)
    .where(and(inArray(llmCalls.id, ids), eq(llmCalls.finishReason, 'length')));
  return new Set(rows.map((r) => r.id));
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
  await countCacheHits(db, [id]);
}

export async function countCacheHits(db: Database, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(llmCalls)
    .set({ cacheHits: sql`${llmCalls.cacheHits} + 1` })
    .where(inArray(llmCalls.id, ids));
}
