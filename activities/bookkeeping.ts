import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import { getSeedStatuses, pageUnfinishedSeeds, setSeedStatus } from '../db/queries/batches';
import type { Seed } from '../db/schema';
import { seedWorkflowId, type SeedDone } from '../workflows/contracts';

export interface BookkeepingDeps {
  db: Database;
  /** For reconciling seeds whose workflows closed without reporting (terminated, timed out). */
  temporal?: Client;
}

export function createBookkeepingActivities({ db, temporal }: BookkeepingDeps) {
  return {
    /** Records a seed's status in Postgres, the record of what is done (conditional, repeatable). */
    async markSeed(inp: { batchId: string; seedId: string; status: Seed['status']; outcome?: string }): Promise<void> {
      await setSeedStatus(db, inp.batchId, inp.seedId, inp.status, inp.outcome ?? null);
    },

    /** The next seed ids (in id order, after `after`) that Postgres does not mark done. */
    async pageSeeds(inp: { batchId: string; after: string; limit: number }): Promise<string[]> {
      return pageUnfinishedSeeds(db, inp.batchId, inp.after, inp.limit);
    },

    /**
     * Which of these open seeds have in fact ended: done/failed in Postgres, or a workflow that is
     * closed (terminated, timed out, cancelled) or missing in Temporal; those are marked failed.
     */
    async closedSeeds(inp: { batchId: string; seedIds: string[] }): Promise<SeedDone[]> {
      const statuses = await getSeedStatuses(db, inp.batchId, inp.seedIds);
      const out: SeedDone[] = [];
      for (const seedId of inp.seedIds) {
        const st = statuses.get(seedId);
        if (st === 'done') { out.push({ seedId, ok: true }); continue; }
        if (st === 'failed') { out.push({ seedId, ok: false }); continue; }
        if (!temporal) continue;
        try {
          const d = await temporal.workflow.getHandle(seedWorkflowId(inp.batchId, seedId)).describe();
          if (d.status.name === 'RUNNING') continue;
          if (d.status.name === 'COMPLETED') { out.push({ seedId, ok: true }); continue; }
          await setSeedStatus(db, inp.batchId, seedId, 'failed', d.status.name.toLowerCase());
        } catch (err) {
          if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
          await setSeedStatus(db, inp.batchId, seedId, 'failed', 'not_found');
        }
        out.push({ seedId, ok: false });
      }
      return out;
    },
  };
}
