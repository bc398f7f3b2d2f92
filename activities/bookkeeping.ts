import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import {
  clearOpenSeeds,
  dropOpenSeeds,
  getBatch,
  getSeedStatuses,
  pageOpenSeeds,
  pageUnfinishedSeeds,
  saveOpenSeeds,
  setSeedStatus,
} from '../db/queries/batches';
import { batchTokenUse, costOf, usd, type PriceTable } from '../db/queries/cost';
import type { Seed } from '../db/schema';
import { parseBatchSettings, seedWorkflowId, type SeedDone } from '../workflows/contracts';

export interface BookkeepingDeps {
  db: Database;
  /** For reconciling seeds whose workflows closed without reporting (terminated, timed out). */
  temporal?: Client;
  /** USD per million tokens per model (the worker's CAIRN_PRICES), for budgets. */
  prices?: PriceTable;
}

export function createBookkeepingActivities({ db, temporal, prices = {} }: BookkeepingDeps) {
  return {
    /**
     * The batch's LLM spend against its recorded budget. Reached also when a model it used has no
     * price (spend that cannot be counted is not spent blindly).
     */
    async checkBudget(inp: { batchId: string }): Promise<{ spentUsd: number; budgetUsd: number | null; reached: boolean; reason: string }> {
      const batch = await getBatch(db, inp.batchId);
      if (!batch) throw new Error(`batch ${inp.batchId} is not in Postgres`);
      const budget = parseBatchSettings(batch.settings, inp.batchId).budgetUsd ?? null;
      const cost = costOf(await batchTokenUse(db, inp.batchId), prices);
      if (budget === null) return { spentUsd: cost.usd, budgetUsd: null, reached: false, reason: '' };
      const raise = `raise it with \`npx cairn batch resume --batch ${inp.batchId} --budget USD\``;
      if (cost.unpriced.length)
        return {
          spentUsd: cost.usd,
          budgetUsd: budget,
          reached: true,
          reason: `paused: the budget cannot be checked, no price for ${cost.unpriced.join(', ')} (add it to CAIRN_PRICES on the workers, then \`cairn batch resume\`).`,
        };
      const reached = cost.usd >= budget;
      return {
        spentUsd: cost.usd,
        budgetUsd: budget,
        reached,
        reason: reached
          ? `paused: budget reached (${usd(cost.usd)} spent of ${usd(budget)}; the open seeds finish their turns); ${raise}.`
          : '',
      };
    },

    /** Records a seed's status in Postgres, the record of what is done (conditional, repeatable). */
    async markSeed(inp: { batchId: string; seedId: string; status: Seed['status']; outcome?: string }): Promise<void> {
      await setSeedStatus(db, inp.batchId, inp.seedId, inp.status, inp.outcome ?? null);
    },

    /** The next seed ids (in id order, after `after`) that Postgres does not mark done. */
    async pageSeeds(inp: { batchId: string; after: string; limit: number }): Promise<string[]> {
      return pageUnfinishedSeeds(db, inp.batchId, inp.after, inp.limit);
    },

    /** Writes a chunk of a batch run's open seeds for the run it continues as (the first chunk drops older snapshots). */
    async saveOpenSeeds(inp: { batchId: string; runId: string; seedIds: string[]; first: boolean }): Promise<void> {
      await saveOpenSeeds(db, inp.batchId, inp.runId, inp.seedIds, inp.first);
    },

    /** A page of the open seeds a batch run left for the next one. */
    async loadOpenSeeds(inp: { batchId: string; runId: string; after: string; limit: number }): Promise<string[]> {
      return pageOpenSeeds(db, inp.batchId, inp.runId, inp.after, inp.limit);
    },

    /** Takes seeds that reported meanwhile out of a run's open-seed snapshot. */
    async dropOpenSeeds(inp: { batchId: string; runId: string; seedIds: string[] }): Promise<void> {
      await dropOpenSeeds(db, inp.batchId, inp.runId, inp.seedIds);
    },

    /** Drops a batch's open-seed snapshots (the batch ended). */
    async clearOpenSeeds(inp: { batchId: string }): Promise<void> {
      await clearOpenSeeds(db, inp.batchId);
    },

    /**
     * Which of these open seeds have in fact ended: done/failed in Postgres (a seed records its own
     * end), or closed in Temporal without reporting (terminated from the UI, timed out, cancelled
     * before it could record). Those are found with one visibility query per call, whatever the
     * window, and each candidate's latest run is checked (a resumed seed has an old closed run and
     * a new running one); they are marked failed with their real status.
     */
    async closedSeeds(inp: { batchId: string; seedIds: string[] }): Promise<SeedDone[]> {
      const statuses = await getSeedStatuses(db, inp.batchId, inp.seedIds);
      const out: SeedDone[] = [];
      const remaining = new Set<string>();
      for (const seedId of inp.seedIds) {
        const st = statuses.get(seedId);
        if (st === 'done') out.push({ seedId, ok: true });
        else if (st === 'failed') out.push({ seedId, ok: false });
        else remaining.add(seedId);
      }
      if (!temporal || remaining.size === 0) return out;
      const prefix = seedWorkflowId(inp.batchId, '');
      const query = `BatchId = ${JSON.stringify(inp.batchId)} AND ExecutionStatus != "Running" AND ExecutionStatus != "Completed"`;
      const candidates = new Set<string>();
      for await (const wf of temporal.workflow.list({ query })) {
        const seedId = wf.workflowId.startsWith(prefix) ? wf.workflowId.slice(prefix.length) : null;
        if (seedId !== null && remaining.has(seedId)) candidates.add(seedId);
      }
      for (const seedId of candidates) {
        const d = await temporal.workflow.getHandle(seedWorkflowId(inp.batchId, seedId)).describe();
        if (d.status.name === 'RUNNING') continue;
        if (d.status.name === 'COMPLETED') {
          out.push({ seedId, ok: true });
          continue;
        }
        await setSeedStatus(db, inp.batchId, seedId, 'failed', d.status.name.toLowerCase());
        out.push({ seedId, ok: false });
      }
      return out;
    },
  };
}
