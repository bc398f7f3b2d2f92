import type { Database } from '../db/client';
import { setSeedStatus } from '../db/queries/batches';
import type { Seed } from '../db/schema';

export function createBookkeepingActivities({ db }: { db: Database }) {
  return {
    /** Records a seed's status in Postgres, the record of what is done (conditional, repeatable). */
    async markSeed(inp: { batchId: string; seedId: string; status: Seed['status']; outcome?: string }): Promise<void> {
      await setSeedStatus(db, inp.batchId, inp.seedId, inp.status, inp.outcome ?? null);
    },
  };
}
