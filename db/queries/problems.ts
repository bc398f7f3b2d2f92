import { and, arrayOverlaps, asc, eq, inArray, ne, or, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { attempts, grades, problems, type Attempt, type Grade, type Problem } from '../schema';

export async function getProblem(db: Database, id: number): Promise<Problem> {
  const [row] = await db.select().from(problems).where(eq(problems.id, id));
  if (!row) throw new Error(`problem ${id} not found`);
  return row;
}

export async function getProblemByKey(db: Database, key: string): Promise<Problem | undefined> {
  const [row] = await db.select().from(problems).where(eq(problems.key, key));
  return row;
}

/** Insert-or-get by natural key: a retried activity gets the row its first try wrote. */
export async function insertProblem(db: Database, p: typeof problems.$inferInsert): Promise<Problem> {
  const [row] = await db.insert(problems).values(p).onConflictDoNothing().returning();
  if (row) return row;
  const existing = await getProblemByKey(db, p.key);
  if (!existing) throw new Error(`problem ${p.key} vanished after a conflict`);
  return existing;
}

export async function updateProblem(db: Database, id: number, set: Partial<typeof problems.$inferInsert>): Promise<void> {
  await db.update(problems).set(set).where(eq(problems.id, id));
}

export async function insertAttempts(db: Database, rows: (typeof attempts.$inferInsert)[]): Promise<void> {
  if (rows.length) await db.insert(attempts).values(rows).onConflictDoNothing();
}

export async function listAttempts(db: Database, problemId: number): Promise<Attempt[]> {
  return db.select().from(attempts).where(eq(attempts.problemId, problemId)).orderBy(asc(attempts.idx));
}

export async function upsertGrade(db: Database, g: typeof grades.$inferInsert): Promise<void> {
  await db.insert(grades).values(g).onConflictDoNothing();
}

export async function listGradedAttempts(db: Database, problemId: number): Promise<{ attempt: Attempt; grade: Grade }[]> {
  return db
    .select({ attempt: attempts, grade: grades })
    .from(attempts)
    .innerJoin(grades, eq(grades.attemptId, attempts.id))
    .where(and(eq(attempts.problemId, problemId)))
    .orderBy(asc(attempts.idx));
}

/** Another valid problem with the same code or AST key (in the batch, or anywhere), if any. */
export async function findDuplicate(
  db: Database,
  p: { id: number; batchId: string; codeHash: string; astHash: string },
  scope: 'batch' | 'global',
): Promise<{ id: number; same: 'code' | 'ast' } | null> {
  const rows = await db
    .select({ id: problems.id, codeHash: problems.codeHash })
    .from(problems)
    .where(
      and(
        or(eq(problems.codeHash, p.codeHash), eq(problems.astHash, p.astHash)),
        inArray(problems.status, ['valid', 'graded']),
        ne(problems.id, p.id),
        ...(scope === 'batch' ? [eq(problems.batchId, p.batchId)] : []),
      ),
    )
    .orderBy(asc(problems.id))
    .limit(1);
  const r = rows[0];
  return r ? { id: r.id, same: r.codeHash === p.codeHash ? 'code' : 'ast' } : null;
}

/** The estimated Jaccard similarity of two MinHash signatures: the fraction of positions that agree. */
export function minhashSimilarity(a: number[], b: number[]): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * The most similar earlier valid problem at or above `threshold` (estimated Jaccard of the MinHash
 * signatures), among those sharing an LSH band with `p`; ties go to the earliest.
 */
export async function findNearDuplicate(
  db: Database,
  p: { id: number; batchId: string; minhash: number[]; lshBands: string[] },
  scope: 'batch' | 'global',
  threshold: number,
): Promise<{ id: number; similarity: number } | null> {
  if (p.lshBands.length === 0) return null;
  const rows = await db
    .select({ id: problems.id, minhash: problems.minhash })
    .from(problems)
    .where(
      and(
        arrayOverlaps(problems.lshBands, p.lshBands),
        inArray(problems.status, ['valid', 'graded']),
        ne(problems.id, p.id),
        ...(scope === 'batch' ? [eq(problems.batchId, p.batchId)] : []),
      ),
    )
    .orderBy(asc(problems.id));
  let best: { id: number; similarity: number } | null = null;
  for (const r of rows) {
    const similarity = minhashSimilarity(p.minhash, r.minhash ?? []);
    if (similarity >= threshold && (!best || similarity > best.similarity)) best = { id: r.id, similarity };
  }
  return best;
}

export type Duplicate = { duplicateOf: number; same: 'code' | 'ast' } | { duplicateOf: number; same: 'near'; similarity: number };

/** The reason a near-duplicate gets (the teacher reads it next turn; status counts it by its prefix). */
export function nearDuplicateReason(similarity: number): string {
  return `Near-duplicate: this problem is a near-copy of an earlier one (about ${Math.round(similarity * 100)}% of its normalized code 4-grams shared). Write a different problem.`;
}

/**
 * Marks a validated problem valid, or duplicate of an existing valid one, atomically: advisory
 * locks on its keys (both hashes and, when near-duplicates are checked, every LSH band) make two
 * identical or near-identical problems validated at once end as one valid, one duplicate. Exact
 * duplicates are looked for first; then, with `nearDup` a threshold, near-copies in the same scope.
 */
export async function settleValidProblem(
  db: Database,
  p: { id: number; batchId: string },
  keys: { codeHash: string; astHash: string; minhash?: number[]; lshBands?: string[] } | null,
  set: Partial<typeof problems.$inferInsert>,
  scope: 'batch' | 'global' | 'off',
  nearDup: number | 'off' = 'off',
): Promise<Duplicate | null> {
  if (!keys || scope === 'off') {
    await updateProblem(db, p.id, { ...set, status: 'valid', ...(keys ?? {}) });
    return null;
  }
  const near =
    nearDup !== 'off' && keys.minhash && keys.lshBands ? { threshold: nearDup, minhash: keys.minhash, lshBands: keys.lshBands } : null;
  return db.transaction(async (tx) => {
    const locks = [keys.astHash, keys.codeHash, ...(near ? near.lshBands.map((b) => `lsh:${b}`) : [])].sort();
    for (const k of locks) await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${k}, 0))`);
    const dup = await findDuplicate(tx as unknown as Database, { id: p.id, batchId: p.batchId, ...keys }, scope);
    if (dup) {
      await tx
        .update(problems)
        .set({
          ...set,
          ...keys,
          status: 'duplicate',
          duplicateOf: dup.id,
          invalidReason: `This problem duplicates an earlier one (same ${dup.same === 'code' ? 'code' : 'code up to names and layout'}). Write a different problem.`,
        })
        .where(eq(problems.id, p.id));
      return { duplicateOf: dup.id, same: dup.same };
    }
    const nd = near
      ? await findNearDuplicate(tx as unknown as Database, { id: p.id, batchId: p.batchId, ...near }, scope, near.threshold)
      : null;
    if (nd) {
      await tx
        .update(problems)
        .set({ ...set, ...keys, status: 'duplicate', duplicateOf: nd.id, invalidReason: nearDuplicateReason(nd.similarity) })
        .where(eq(problems.id, p.id));
      return { duplicateOf: nd.id, same: 'near', similarity: nd.similarity };
    }
    await tx
      .update(problems)
      .set({ ...set, ...keys, status: 'valid' })
      .where(eq(problems.id, p.id));
    return null;
  });
}
