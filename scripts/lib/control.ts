/** Controlling a batch that exists: resume it, pause, cancel or resize its workflow, wait for it to end. */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Database } from '../../db/client';
import { getBatch, markLoaded, seedCounts, setBatchBudget } from '../../db/queries/batches';
import type { Config } from '../../workers/config/load-config';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import {
  BatchSettingsError,
  SA,
  batchWorkflowId,
  batchWorkflowInputFrom,
  cancelUpdate,
  parseBatchSettings,
  pauseUpdate,
  resizeUpdate,
  resumeUpdate,
  type BatchProgress,
  type BatchState,
} from '../../workflows/contracts';
import { loadSeeds } from './load-seeds';
import { loadBounded } from './bounded-load';
import { checkPriced, defaultWindow, startBatchWorkflow } from './start-batch';

/**
 * `cairn batch resume`: finishes loading if the starter died mid-load, then unpauses the running
 * batch workflow or starts a new run of it, which pages exactly the seeds Postgres does not mark done.
 */
export async function resumeBatch(
  db: Database,
  client: Client,
  cfg: Readonly<Config>,
  batchId: string,
  o: { window?: number; budgetUsd?: number } = {},
) {
  const batch = await getBatch(db, batchId);
  if (!batch) throw new BatchSettingsError(`No batch ${batchId} in Postgres. \`npx cairn batch list\` shows the batches.`);
  const s = parseBatchSettings(batch.settings, batchId);
  if (o.budgetUsd !== undefined) {
    // Raising the budget of a budgeted batch (its workflow checks the recorded budget); one started without keeps none.
    if (s.budgetUsd === undefined)
      throw new BatchSettingsError(
        `--budget: batch ${batchId} was started without a budget; a budget is set with \`cairn batch start --budget USD\`.`,
      );
    if (!(Number.isFinite(o.budgetUsd) && o.budgetUsd > 0))
      throw new BatchSettingsError(`--budget ${o.budgetUsd}: must be an amount in USD > 0.`);
    checkPriced(cfg);
    await setBatchBudget(db, batchId, o.budgetUsd);
  }
  if (!batch.loadedAt) {
    // In the capped-heap loader thread, as `batch start` loads (flat memory for any file size).
    if (!(await loadBounded(db, batchId, s.seedFile, { skipBad: true }))) await loadSeeds(db, batchId, s.seedFile, { skipBad: true });
    await markLoaded(db, batchId);
  }
  const c = await seedCounts(db, batchId);
  const unfinished = c.pending + c.running + c.failed;
  const h = client.workflow.getHandle(batchWorkflowId(batchId));
  const desc = await h.describe().catch(() => null);
  if (desc?.status.name === 'RUNNING') {
    await batchUpdate(h, resumeUpdate);
    if (o.window) await batchUpdate(h, resizeUpdate, o.window);
    return { message: 'batch workflow is running; unpaused', unfinished };
  }
  const window = o.window ?? defaultWindow(cfg);
  await startBatchWorkflow(client, batchWorkflowInputFrom(batchId, s, { window }));
  return { message: `started a new batch workflow run (window ${window})`, unfinished };
}

/**
 * Sends an update to the batch workflow, retrying the server's transient refusal ("unexpected
 * workflow task failure", e.g. when a seed's signal lands in the same workflow task) a few times.
 */
export async function batchUpdate<Ret, Args extends unknown[]>(
  h: WorkflowHandle,
  def: UpdateDefinition<Ret, Args>,
  ...args: Args
): Promise<Ret> {
  for (let i = 0; ; i++) {
    try {
      // The SDK's overloads split on arity; the definition carries the real argument types.
      return await (h.executeUpdate as (d: unknown, o: { args: unknown[] }) => Promise<Ret>)(def, { args });
    } catch (err) {
      const transient = /unexpected workflow task failure/i.test(
        String((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message),
      );
      if (!transient || i >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
  }
}

/** The running batch workflow's handle, or a clear error when none runs. */
async function runningBatch(client: Client, batchId: string): Promise<WorkflowHandle<typeof batchWorkflow>> {
  const h = client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId(batchId));
  const desc = await h.describe().catch(() => null);
  if (!desc || desc.status.name !== 'RUNNING') {
    throw new BatchSettingsError(
      `batch ${batchId} has no running batch workflow; \`npx cairn batch resume --batch ${batchId}\` starts one.`,
    );
  }
  return h;
}

/** Stops starting seeds (running ones finish); `resumeBatch` continues. */
export async function pauseBatch(client: Client, batchId: string): Promise<BatchProgress> {
  return batchUpdate(await runningBatch(client, batchId), pauseUpdate);
}

/** Cancels the open seeds (each is recorded; `resumeBatch` runs them later) and ends the batch workflow. */
export async function cancelBatch(client: Client, batchId: string): Promise<BatchProgress> {
  return batchUpdate(await runningBatch(client, batchId), cancelUpdate);
}

/** Changes how many seeds may be open at once. */
export async function resizeBatch(client: Client, batchId: string, window: number): Promise<BatchProgress> {
  return batchUpdate(await runningBatch(client, batchId), resizeUpdate, window);
}

/** Waits until the batch workflow ends; resolves with its counts. */
export async function waitForBatch(client: Client, batchId: string) {
  return client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId(batchId)).result();
}

/**
 * The state of every running batch workflow (its BatchState search attribute: running, paused,
 * stopped, cancelled), by batch id, from one visibility query. A run from before the attribute
 * existed shows as running.
 */
export async function runningBatchStates(client: Client): Promise<Map<string, BatchState>> {
  const out = new Map<string, BatchState>();
  for await (const wf of client.workflow.list({ query: 'WorkflowType = "batchWorkflow" AND ExecutionStatus = "Running"' })) {
    const id = wf.typedSearchAttributes.get(SA.batchId) ?? wf.workflowId.replace(/^batch\//, '');
    out.set(id, (wf.typedSearchAttributes.get(SA.batchState) as BatchState | undefined) ?? 'running');
  }
  return out;
}
