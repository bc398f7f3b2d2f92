/** `cairn batch start` and `cairn batch status`: the testable functions behind the commands. */
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Database } from '../db/client';
import { getBatch, insertSeeds, listSeedIds, upsertBatch } from '../db/queries/batches';
import type { BatchSummary } from '../db/queries/report';
import type { Config } from '../workers/config';
import { ENVS, SA, TASK_QUEUES, seedWorkflowId, type EnvName, type SeedWorkflowInput } from '../workflows/shared';
import { readSeedFile } from './seeds';

export interface BatchSettings {
  env: EnvName;
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

export function validateBatchOptions(o: { turns: number; attempts: number; env: string; batch?: string }): void {
  if (!Number.isInteger(o.turns) || o.turns < 1) throw new BatchInputError(`--turns ${o.turns}: must be a whole number >= 1.`);
  if (!Number.isInteger(o.attempts) || o.attempts < 1) throw new BatchInputError(`--attempts ${o.attempts}: must be a whole number >= 1 (the paper uses 32).`);
  if (!ENVS.includes(o.env as EnvName)) throw new BatchInputError(`--env ${o.env}: unknown environment; choose one of ${ENVS.join(', ')}.`);
  if (o.batch !== undefined && !/^[A-Za-z0-9_.-]{1,100}$/.test(o.batch)) throw new BatchInputError(`--batch ${o.batch}: use letters, digits and _.- only.`);
}

export interface StartBatchOptions { seedsFile: string; batchId: string; turns: number; attempts: number; env: EnvName }

/**
 * Loads the seed file (all of it is validated before anything is written), records the batch and
 * its seeds, then starts one SeedWorkflow per seed. Deterministic ids + USE_EXISTING make a second
 * start of the same batch do nothing twice.
 */
export async function startBatch(db: Database, client: Client, cfg: Readonly<Config>, o: StartBatchOptions) {
  validateBatchOptions(o);
  const seeds = await readSeedFile(o.seedsFile);
  const settings: BatchSettings = {
    env: o.env, turns: o.turns, attempts: o.attempts, teacherModel: cfg.teacher.model, studentModel: cfg.student.model,
    seedFile: o.seedsFile, visiblePairs: 3, timeLimitMs: cfg.sandbox.timeLimitMs,
  };
  const existing = await getBatch(db, o.batchId);
  const batch = await upsertBatch(db, o.batchId, settings);
  const s = batch.settings as BatchSettings;
  const inserted = await insertSeeds(db, seeds.map((x) => ({ batchId: o.batchId, seedId: x.id, kind: x.kind, snippet: x.snippet, source: x.source })));
  const ids = await listSeedIds(db, o.batchId);
  let started = 0;
  for (const seedId of ids) {
    const input: SeedWorkflowInput = { batchId: o.batchId, seedId, env: s.env, turns: s.turns, attempts: s.attempts };
    const h = await client.workflow.start('seedWorkflow', {
      taskQueue: TASK_QUEUES.orchestration, workflowId: seedWorkflowId(o.batchId, seedId), args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      typedSearchAttributes: [
        { key: SA.batchId, value: o.batchId }, { key: SA.seedId, value: seedId }, { key: SA.env, value: s.env },
        { key: SA.phase, value: 'queued' },
      ],
      staticSummary: `Cairn seed ${seedId} of batch ${o.batchId} (${s.env}, ${s.turns} turns, M=${s.attempts})`,
    }).catch((err: Error) => {
      // A closed, completed workflow with this id is a finished seed: nothing to start.
      if (err.name === 'WorkflowExecutionAlreadyStartedError') return null;
      throw err;
    });
    if (h) started++;
  }
  return { batchId: o.batchId, existed: !!existing, settings: s, seedsInFile: seeds.length, seedsInserted: inserted, workflows: started, totalSeeds: ids.length };
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
    lines.push(`  turn ${t.turn}: ${t.problems} problems, ${t.valid} valid, ${t.invalid} invalid, ${t.inBand} with 0<p<1, mean p ${t.meanPassRate === null ? '-' : t.meanPassRate.toFixed(2)}`);
  }
  if (s.invalidReasons.length) {
    lines.push('invalid problems, by reason:');
    for (const r of s.invalidReasons) lines.push(`  ${String(r.n).padStart(4)}  ${r.reason}`);
  }
  lines.push('pass-rate histogram (graded problems):');
  const max = Math.max(1, ...s.histogram.map((h) => h.n));
  for (const h of s.histogram) lines.push(`  ${h.label.padEnd(11)} ${String(h.n).padStart(4)} ${'#'.repeat(Math.round((h.n / max) * 40))}`);
  lines.push(`LLM calls: ${s.llm.calls} (teacher ${s.llm.teacherCalls}, student ${s.llm.studentCalls}), tokens ${s.llm.promptTokens} in / ${s.llm.completionTokens} out`);
  lines.push(`dataset-ready problems (valid, 0.01 <= p <= 0.97): ${s.exportable}`);
  return lines.join('\n');
}
