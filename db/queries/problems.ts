import { and, asc, eq } from 'drizzle-orm';
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
  return db.select({ attempt: attempts, grade: grades }).from(attempts)
    .innerJoin(grades, eq(grades.attemptId, attempts.id))
    .where(and(eq(attempts.problemId, problemId))).orderBy(asc(attempts.idx));
}
