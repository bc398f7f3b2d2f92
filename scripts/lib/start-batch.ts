/** Starting a batch: validate and record its settings once, load the seed file, start its workflow. */
import type { Client } from '@temporalio/client';
import path from 'node:path';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Database } from '../../db/client';
import { getBatch, markLoaded, upsertBatch } from '../../db/queries/batches';
import type { Config } from '../../workers/config/load-config';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import {
  BatchSettingsError,
  SA,
  TASK_QUEUES,
  batchSettingsFrom,
  batchWorkflowId,
  batchWorkflowInputFrom,
  parseBatchSettings,
  type BatchOptions,
  type BatchSettings,
  type BatchWorkflowInput,
} from '../../workflows/contracts';
import { loadSeeds, validateSeedFile } from './load-seeds';
import { loadBounded, validateBounded } from './bounded-load';

/** A budget needs a price for both models (CAIRN_PRICES on the starter and the workers). */
export function checkPriced(cfg: Readonly<Config>): void {
  const missing = [...new Set([cfg.teacher.model, cfg.student.model])].filter((m) => !cfg.prices[m]);
  if (missing.length)
    throw new BatchSettingsError(
      `--budget: no price for ${missing.join(', ')}; set CAIRN_PRICES (or CAIRN_PRICES_FILE) to e.g. {"${missing[0]}": {"input": 0.4, "output": 1.6}} (USD per million tokens), the same on the workers.`,
    );
}

export function newBatchId(now = new Date()): string {
  return `b${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
}

/** Checks what startBatch checks before anything is written (for a CLI's early error). */
export function validateBatchOptions(o: BatchOptions & { batchId?: string; window?: number }): BatchSettings {
  if (o.batchId !== undefined && !/^[A-Za-z0-9_.-]{1,100}$/.test(o.batchId))
    throw new BatchSettingsError(`--batch ${o.batchId}: use letters, digits and _.- only (at most 100).`);
  if (o.window !== undefined && (!Number.isInteger(o.window) || o.window < 1))
    throw new BatchSettingsError(`--window ${o.window}: must be a whole number >= 1.`);
  return batchSettingsFrom(o);
}

export interface StartBatchOptions extends Omit<BatchOptions, 'seedFile'> {
  /** The seed file (JSONL: {"id","snippet"} per line). */
  seedsFile: string;
  batchId: string;
  /** Most seeds open at once (default: sized to the LLM concurrency). */
  window?: number;
  paused?: boolean;
  /** Skip (and report) bad lines of the seed file instead of stopping at the first. */
  skipBad?: boolean;
  onProgress?: (loaded: number) => void;
  /** How often a full window asks which seeds ended without reporting (default 2 minutes; e.g. '10s'). */
  reconcileEvery?: string;
}

/** Open seeds that keep the LLM slots busy: each open seed has at most one LLM call in flight. */
export function defaultWindow(cfg: Readonly<Config>): number {
  return 4 * (cfg.teacher.concurrency + cfg.student.concurrency);
}

/**
 * Loads the seed file (validated whole before anything is written; streaming, idempotent), marks
 * the batch loaded, then starts its BatchWorkflow. Deterministic ids + USE_EXISTING make a second
 * start of the same batch do nothing twice; a starter killed mid-load is finished by running the
 * same command again (or `cairn batch resume`).
 */
export async function startBatch(db: Database, client: Client, cfg: Readonly<Config>, o: StartBatchOptions) {
  const wanted = validateBatchOptions({ ...o, seedFile: path.resolve(o.seedsFile) });
  if (wanted.budgetUsd !== undefined) checkPriced(cfg);
  // Before the batch row exists: a bad file leaves nothing half-written.
  // In a worker thread with a capped heap (flat memory for any file size), when the pool came from a URL.
  const validated =
    (await validateBounded(db, o.seedsFile, o.skipBad ?? false)) ?? (await validateSeedFile(db, o.seedsFile, o.skipBad ?? false));
  const existing = await getBatch(db, o.batchId);
  // Recorded once: a batch started again keeps (and runs with) the settings it was first started with.
  const batch = await upsertBatch(db, o.batchId, wanted);
  const settings = parseBatchSettings(batch.settings, o.batchId);
  const loadOpts = { skipBad: o.skipBad ?? false, onProgress: o.onProgress, validated };
  const load = (await loadBounded(db, o.batchId, o.seedsFile, loadOpts)) ?? (await loadSeeds(db, o.batchId, o.seedsFile, loadOpts));
  const totalSeeds = await markLoaded(db, o.batchId);
  const window = o.window ?? defaultWindow(cfg);
  await startBatchWorkflow(client, {
    ...batchWorkflowInputFrom(o.batchId, settings, { window, paused: o.paused }),
    ...(o.reconcileEvery ? { reconcileEvery: o.reconcileEvery } : {}),
  });
  return { batchId: o.batchId, existed: !!existing, settings, load, totalSeeds, window };
}

/** Starts (or finds running) `batch/<id>`; a finished batch gets a new run, which pages the unfinished seeds. */
export async function startBatchWorkflow(client: Client, input: BatchWorkflowInput): Promise<{ started: boolean }> {
  try {
    await client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      taskQueue: TASK_QUEUES.orchestration,
      workflowId: batchWorkflowId(input.batchId),
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: SA.batchId, value: input.batchId },
        { key: SA.env, value: input.env },
        { key: SA.phase, value: 'batch' },
      ],
      staticSummary: `Cairn batch ${input.batchId} (${input.env}, ${input.turns} turns, M=${input.attempts}, window ${input.window})`,
    });
    return { started: true };
  } catch (err) {
    if ((err as Error).name === 'WorkflowExecutionAlreadyStartedError') return { started: false };
    throw err;
  }
}
