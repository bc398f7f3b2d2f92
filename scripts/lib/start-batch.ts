/** `cairn batch start` and `cairn batch status`: the testable functions behind the commands. */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import path from 'node:path';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Database } from '../../db/client';
import { getBatch, markLoaded, seedCounts, upsertBatch } from '../../db/queries/batches';
import { resizeUpdate, resumeUpdate } from '../../workflows/contracts/messages';
import type { BatchSummary } from '../../db/queries/stats';
import type { Config } from '../../workers/config/load-config';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import {
  ENVS, MODES, PAPER_CHAIN_BINS, SA, TASK_QUEUES, batchWorkflowId, type BatchWorkflowInput, type ChainBins, type EnvName, type Mode,
} from '../../workflows/contracts';
import { loadSeeds, validateSeedFile } from './load-seeds';

export interface BatchSettings {
  env: EnvName;
  /** Environment weights when the batch mixes environments. */
  envWeights?: Partial<Record<EnvName, number>>;
  mode: Mode;
  chainBins?: ChainBins;
  dedup?: 'global' | 'batch' | 'off';
  turns: number;
  attempts: number;
  teacherModel: string;
  studentModel: string;
  seedFile: string;
  [k: string]: unknown;
}

export class BatchInputError extends Error {
  override name = 'BatchInputError';
}

export function newBatchId(now = new Date()): string {
  return `b${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
}

/** `induction`, or a weighted mix `induction=2,abduction,deduction=0.5` (weight 1 when omitted). */
export function parseEnvSpec(spec: string): { env: EnvName; weights?: Partial<Record<EnvName, number>> } {
  const weights: Partial<Record<EnvName, number>> = {};
  for (const part of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [name, w] = part.split('=');
    if (!ENVS.includes(name as EnvName)) throw new BatchInputError(`--env ${spec}: unknown environment "${name}"; choose from ${ENVS.join(', ')} (weights as name=2).`);
    const weight = w === undefined ? 1 : Number(w);
    if (!(weight > 0)) throw new BatchInputError(`--env ${spec}: the weight of ${name} must be a number > 0.`);
    weights[name as EnvName] = weight;
  }
  const names = Object.keys(weights) as EnvName[];
  if (names.length === 0) throw new BatchInputError(`--env: name at least one environment (${ENVS.join(', ')}).`);
  return names.length === 1 ? { env: names[0] as EnvName } : { env: names[0] as EnvName, weights };
}

export function validateBatchOptions(o: { turns: number; attempts: number; env: string; batchId?: string; window?: number; mode?: string; dedup?: string }): void {
  if (!Number.isInteger(o.turns) || o.turns < 1) throw new BatchInputError(`--turns ${o.turns}: must be a whole number >= 1.`);
  if (!Number.isInteger(o.attempts) || o.attempts < 1) throw new BatchInputError(`--attempts ${o.attempts}: must be a whole number >= 1 (the paper uses 32).`);
  parseEnvSpec(o.env);
  if (o.dedup !== undefined && !['global', 'batch', 'off'].includes(o.dedup)) throw new BatchInputError(`--dedup ${o.dedup}: choose global, batch or off.`);
  if (o.mode !== undefined && !MODES.includes(o.mode as Mode)) throw new BatchInputError(`--mode ${o.mode}: choose one of ${MODES.join(', ')}.`);
  if (o.batchId !== undefined && !/^[A-Za-z0-9_.-]{1,100}$/.test(o.batchId)) throw new BatchInputError(`--batch ${o.batchId}: use letters, digits and _.- only (at most 100).`);
  if (o.window !== undefined && (!Number.isInteger(o.window) || o.window < 1)) throw new BatchInputError(`--window ${o.window}: must be a whole number >= 1.`);
}

export interface StartBatchOptions {
  seedsFile: string;
  batchId: string;
  turns: number;
  attempts: number;
  /** An environment name or a weighted mix (see parseEnvSpec). */
  env: string;
  mode?: Mode;
  chainBins?: ChainBins;
  /** Dedup scope: global (default: within and across batches), batch, or off. */
  dedup?: 'global' | 'batch' | 'off';
  /** Most seeds open at once (default: sized to the LLM concurrency). */
  window?: number;
  paused?: boolean;
  skipBad?: boolean;
  onProgress?: (loaded: number) => void;
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
  validateBatchOptions(o);
  await validateSeedFile(o.seedsFile, o.skipBad ?? false); // before the batch row exists: nothing half-written
  const envs = parseEnvSpec(o.env);
  const settings: BatchSettings = {
    env: envs.env, ...(envs.weights ? { envWeights: envs.weights } : {}), mode: o.mode ?? 'multi',
    ...(o.mode === 'chain' ? { chainBins: o.chainBins ?? PAPER_CHAIN_BINS } : {}), dedup: o.dedup ?? 'global', turns: o.turns, attempts: o.attempts, teacherModel: cfg.teacher.model, studentModel: cfg.student.model,
    seedFile: path.resolve(o.seedsFile), visiblePairs: 3, timeLimitMs: cfg.sandbox.timeLimitMs,
  };
  const existing = await getBatch(db, o.batchId);
  const batch = await upsertBatch(db, o.batchId, settings);
  const s = batch.settings as BatchSettings;
  const load = await loadSeeds(db, o.batchId, o.seedsFile, { skipBad: o.skipBad ?? false, onProgress: o.onProgress });
  const totalSeeds = await markLoaded(db, o.batchId);
  const window = o.window ?? defaultWindow(cfg);
  await startBatchWorkflow(client, { ...workflowSettings(s), batchId: o.batchId, window, paused: o.paused });
  return { batchId: o.batchId, existed: !!existing, settings: s, load, totalSeeds, window };
}

/** The recorded batch settings the workflow needs (recorded once, so a resume runs the same way). */
function workflowSettings(s: BatchSettings) {
  return { env: s.env, envWeights: s.envWeights, turns: s.turns, attempts: s.attempts, mode: s.mode ?? 'multi', chainBins: s.chainBins };
}

/** Starts (or finds running) `batch/<id>`; a finished batch gets a new run, which pages the unfinished seeds. */
export async function startBatchWorkflow(client: Client, input: BatchWorkflowInput): Promise<{ started: boolean }> {
  try {
    await client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      taskQueue: TASK_QUEUES.orchestration, workflowId: batchWorkflowId(input.batchId), args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [{ key: SA.batchId, value: input.batchId }, { key: SA.env, value: input.env }, { key: SA.phase, value: 'batch' }],
      staticSummary: `Cairn batch ${input.batchId} (${input.env}, ${input.turns} turns, M=${input.attempts}, window ${input.window})`,
    });
    return { started: true };
  } catch (err) {
    if ((err as Error).name === 'WorkflowExecutionAlreadyStartedError') return { started: false };
    throw err;
  }
}

export function uiUrl(cfg: Readonly<Config>, batchId: string): string {
  const q = encodeURIComponent(`BatchId="${batchId}"`);
  return `${cfg.temporal.uiUrl}/namespaces/${cfg.temporal.namespace}/workflows?query=${q}`;
}

/** Human-readable status (from Postgres, which is exact; visibility is eventually consistent). */
export function formatSummary(s: BatchSummary): string {
  const lines: string[] = [];
  lines.push(`batch ${s.batchId}: ${s.seeds.total} seeds (done ${s.seeds.done}, running ${s.seeds.running}, pending ${s.seeds.pending}, failed ${s.seeds.failed})`);
  lines.push(`problems per turn:`);
  for (const t of s.turns) {
    lines.push(`  turn ${t.turn}: ${t.problems} problems, ${t.valid} valid, ${t.invalid} invalid, ${t.duplicate} duplicate, ${t.inBand} with 0<p<1, mean p ${t.meanPassRate === null ? '-' : t.meanPassRate.toFixed(2)}`);
  }
  if (s.invalidReasons.length) {
    lines.push('invalid problems, by reason:');
    for (const r of s.invalidReasons) lines.push(`  ${String(r.n).padStart(4)}  ${r.reason}`);
  }
  lines.push('pass-rate histogram (graded problems):');
  const max = Math.max(1, ...s.histogram.map((h) => h.n));
  for (const h of s.histogram) lines.push(`  ${h.label.padEnd(11)} ${String(h.n).padStart(4)} ${'#'.repeat(Math.round((h.n / max) * 40))}`);
  lines.push(`LLM calls paid: ${s.llm.calls} (teacher ${s.llm.teacherCalls}, student ${s.llm.studentCalls}), served from the cache: ${s.llm.cacheHits}; tokens ${s.llm.promptTokens} in / ${s.llm.completionTokens} out`);
  lines.push(`dataset-ready problems (valid, 0.01 <= p <= 0.97): ${s.exportable}`);
  if (s.failures.length) {
    lines.push('failed seeds, by reason (`cairn batch resume` reruns them):');
    for (const f of s.failures) lines.push(`  ${String(f.n).padStart(4)}  ${f.reason}`);
  }
  return lines.join('\n');
}

/**
 * `cairn batch resume`: finishes loading if the starter died mid-load, then unpauses the running
 * batch workflow or starts a new run of it, which pages exactly the seeds Postgres does not mark done.
 */
export async function resumeBatch(db: Database, client: Client, cfg: Readonly<Config>, batchId: string, o: { window?: number } = {}) {
  const batch = await getBatch(db, batchId);
  if (!batch) throw new BatchInputError(`No batch ${batchId} in Postgres. \`npx cairn batch list\` shows the batches.`);
  const s = batch.settings as BatchSettings;
  if (!batch.loadedAt) {
    await loadSeeds(db, batchId, s.seedFile, { skipBad: true });
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
  await startBatchWorkflow(client, { ...workflowSettings(s), batchId, window });
  return { message: `started a new batch workflow run (window ${window})`, unfinished };
}

/**
 * Sends an update to the batch workflow, retrying the server's transient refusal ("unexpected
 * workflow task failure", e.g. when a seed's signal lands in the same workflow task) a few times.
 */
export async function batchUpdate<Ret, Args extends unknown[]>(
  h: WorkflowHandle, def: UpdateDefinition<Ret, Args>, ...args: Args
): Promise<Ret> {
  for (let i = 0; ; i++) {
    try {
      // The SDK's overloads split on arity; the definition carries the real argument types.
      return await (h.executeUpdate as (d: unknown, o: { args: unknown[] }) => Promise<Ret>)(def, { args });
    } catch (err) {
      const transient = /unexpected workflow task failure/i.test(String((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message));
      if (!transient || i >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
  }
}
