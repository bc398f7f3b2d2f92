import { and, eq, gt, inArray, ne, sql } from 'drizzle-orm';
import type { BatchSettings } from '../../workflows/contracts/batch-settings';
import type { Database } from '../client';
import { batchOpenSeeds, batches, seeds, type Batch, type NewSeed, type Seed } from '../schema';

/** Records a batch with its validated settings; an existing batch keeps the settings it was started with. */
export async function upsertBatch(db: Database, id: string, settings: BatchSettings): Promise<Batch> {
  await db
    .insert(batches)
    .values({ id, settings: { ...settings } })
    .onConflictDoNothing();
  const [row] = await db.select().from(batches).where(eq(batches.id, id));
  if (!row) throw new Error(`batch ${id} was not written`);
  return row;
}

/** Sets (or raises) a batch's budget in its recorded settings; the batch workflow reads it at its next spend check. */
export async function setBatchBudget(db: Database, id: string, budgetUsd: number): Promise<void> {
  await db
    .update(batches)
    .set({ settings: sql`jsonb_set(${batches.settings}, '{budgetUsd}', to_jsonb(${budgetUsd}::float8))` })
    .where(eq(batches.id, id));
}

export async function getBatch(db: Database, id: string): Promise<Batch | undefined> {
  const [row] = await db.select().from(batches).where(eq(batches.id, id));
  return row;
}

/** Inserts seeds in chunks; existing (batch, seed) pairs are left as they are. Returns rows inserted. */
export async function insertSeeds(db: Database, rows: NewSeed[], chunk = 1000): Promise<number> {
  let n = 0;
  for (let i = 0; i < rows.length; i += chunk) {
    const res = await db
      .insert(seeds)
      .values(rows.slice(i, i + chunk))
      .onConflictDoNothing()
      .returning({ id: seeds.seedId });
    n += res.length;
  }
  return n;
}

export async function getSeed(db: Database, batchId: string, seedId: string): Promise<Seed | undefined> {
  const [row] = await db
    .select()
    .from(seeds)
    .where(and(eq(seeds.batchId, batchId), eq(seeds.seedId, seedId)));
  return row;
}

export async function listSeedIds(db: Database, batchId: string): Promise<string[]> {
  const rows = await db.select({ id: seeds.seedId }).from(seeds).where(eq(seeds.batchId, batchId)).orderBy(seeds.seedId);
  return rows.map((r) => r.id);
}

/** Conditional status update: a finished seed is never moved back to running. */
export async function setSeedStatus(
  db: Database,
  batchId: string,
  seedId: string,
  status: Seed['status'],
  outcome: string | null = null,
): Promise<void> {
  const guard = status === 'running' ? sql`${seeds.status} in ('pending', 'running', 'failed')` : sql`true`;
  await db
    .update(seeds)
    .set({ status, outcome, updatedAt: new Date() })
    .where(and(eq(seeds.batchId, batchId), eq(seeds.seedId, seedId), guard));
}

export async function seedCounts(db: Database, batchId: string): Promise<Record<Seed['status'], number>> {
  const rows = await db
    .select({ status: seeds.status, n: sql<number>`count(*)::int` })
    .from(seeds)
    .where(eq(seeds.batchId, batchId))
    .groupBy(seeds.status);
  const out = { pending: 0, running: 0, done: 0, failed: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
}

/** Seed ids after `after` (id order) that are not done: what a batch (or its resume) still has to run. */
export async function pageUnfinishedSeeds(db: Database, batchId: string, after: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: seeds.seedId })
    .from(seeds)
    .where(and(eq(seeds.batchId, batchId), sql`${seeds.seedId} > ${after}`, sql`${seeds.status} <> 'done'`))
    .orderBy(seeds.seedId)
    .limit(limit);
  return rows.map((r) => r.id);
}

export async function getSeedStatuses(db: Database, batchId: string, ids: string[]): Promise<Map<string, Seed['status']>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: seeds.seedId, status: seeds.status })
    .from(seeds)
    .where(and(eq(seeds.batchId, batchId), inArray(seeds.seedId, ids)));
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** Marks the batch fully loaded and records its seed count. */
export async function markLoaded(db: Database, batchId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(seeds)
    .where(eq(seeds.batchId, batchId));
  const n = row?.n ?? 0;
  await db.update(batches).set({ loadedAt: new Date(), seedCount: n }).where(eq(batches.id, batchId));
  return n;
}

export async function listBatches(db: Database): Promise<(Batch & { done: number; failed: number; running: number })[]> {
  const rows = await db
    .select({
      b: batches,
      done: sql<number>`count(*) filter (where ${seeds.status} = 'done')::int`,
      failed: sql<number>`count(*) filter (where ${seeds.status} = 'failed')::int`,
      running: sql<number>`count(*) filter (where ${seeds.status} = 'running')::int`,
    })
    .from(batches)
    .leftJoin(seeds, eq(seeds.batchId, batches.id))
    .groupBy(batches.id)
    .orderBy(batches.createdAt);
  return rows.map((r) => ({ ...r.b, done: r.done, failed: r.failed, running: r.running }));
}

/** Seeds per status over every batch (the metrics endpoint's `cairn_seeds` gauge). */
export async function seedsByStatus(db: Database): Promise<{ status: string; n: number }[]> {
  const rows = await db
    .select({ status: seeds.status, n: sql<number>`count(*)::int` })
    .from(seeds)
    .groupBy(seeds.status);
  return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
}

/** Adds ids to the open-seed snapshot of a batch run; the first chunk also drops every other run's snapshot. Repeatable. */
export async function saveOpenSeeds(db: Database, batchId: string, runId: string, ids: string[], first: boolean): Promise<void> {
  if (first) await db.delete(batchOpenSeeds).where(and(eq(batchOpenSeeds.batchId, batchId), ne(batchOpenSeeds.runId, runId)));
  if (ids.length === 0) return;
  await db
    .insert(batchOpenSeeds)
    .values(ids.map((seedId) => ({ batchId, runId, seedId })))
    .onConflictDoNothing();
}

/** A page (id order, after `after`) of the open-seed snapshot a batch run left for the next one. */
export async function pageOpenSeeds(db: Database, batchId: string, runId: string, after: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: batchOpenSeeds.seedId })
    .from(batchOpenSeeds)
    .where(and(eq(batchOpenSeeds.batchId, batchId), eq(batchOpenSeeds.runId, runId), gt(batchOpenSeeds.seedId, after)))
    .orderBy(batchOpenSeeds.seedId)
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Drops every open-seed snapshot of a batch (it ended). */
export async function clearOpenSeeds(db: Database, batchId: string): Promise<void> {
  await db.delete(batchOpenSeeds).where(eq(batchOpenSeeds.batchId, batchId));
}

/** Takes ids out of a batch run's open-seed snapshot (they reported while it was written). */
export async function dropOpenSeeds(db: Database, batchId: string, runId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .delete(batchOpenSeeds)
    .where(and(eq(batchOpenSeeds.batchId, batchId), eq(batchOpenSeeds.runId, runId), inArray(batchOpenSeeds.seedId, ids)));
}
