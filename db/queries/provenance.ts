import { createHash } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../client';
import { batchProvenance } from '../schema';

/** Records what a worker used for a batch (idempotent: one row per batch, role and details). */
export async function recordProvenance(
  db: Database,
  row: { batchId: string; role: string; details: Record<string, unknown>; host: string },
): Promise<void> {
  const detailsHash = createHash('sha256').update(JSON.stringify(row.details)).digest('hex');
  await db
    .insert(batchProvenance)
    .values({ ...row, detailsHash })
    .onConflictDoNothing();
}

export async function listProvenance(db: Database, batchId: string) {
  return db
    .select({
      role: batchProvenance.role,
      details: batchProvenance.details,
      host: batchProvenance.host,
      firstSeen: batchProvenance.firstSeen,
    })
    .from(batchProvenance)
    .where(eq(batchProvenance.batchId, batchId))
    .orderBy(asc(batchProvenance.role), asc(batchProvenance.id));
}
