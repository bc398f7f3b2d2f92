/**
 * Trainer rows (verl, TRL, OpenRLHF) from export records: the student's prompt exactly as Cairn's
 * student saw it (the environment's studentMessages with the batch's recorded visiblePairs), a
 * ground truth holding the grading job Cairn runs (rendered by the environment's gradeJob, with a
 * sentinel where the answer goes, plus the time limit the batch graded that problem with), and the
 * record's facts. Splits are deterministic by id.
 */
import { createHash } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { listProvenance } from '../../db/queries/provenance';
import { batches, problems } from '../../db/schema';
import { environment } from '../../activities/environments';
import type { ChatMessage } from '../../activities/environments/environment';
import { parseBatchSettings, type BatchSettings } from '../../workflows/contracts';
import { ANSWER_SENTINEL } from './reward-file';
import type { ExportRecord } from './records';

export type TrainerFormat = 'verl' | 'trl' | 'openrlhf';
export const TRAINER_FORMATS: readonly TrainerFormat[] = ['verl', 'trl', 'openrlhf'];
export type GroundTruthStyle = 'cairn' | 'apps';

/** What cairn_reward.py needs to grade one answer (the JSON in reward_model.ground_truth). */
export interface CairnGroundTruth {
  env: string;
  code: string;
  entry: string;
  inputs: string[];
  expected: string[];
  time_limit_ms: number;
  wall_factor: number;
  memory_mb: number;
}

export interface ExtraInfo {
  id: number;
  batch_id: string;
  env: string;
  split: string;
  pass_rate: number;
  pass_rate_low: number;
  pass_rate_high: number;
  attempts: number;
  passed: number;
  difficulty_bin: string | null;
  chain_id: string;
  parent_id: number | null;
  turn: number;
  level: string | null;
  seed_id: string;
  seed_source: string | null;
}

export interface TrainerRow {
  data_source: string;
  prompt: ChatMessage[];
  ability: string;
  reward_model: { style: 'rule'; ground_truth: string };
  extra_info: ExtraInfo;
}

/** 95% Wilson interval of a pass rate of `passed` out of `n`. */
export function wilson(passed: number, n: number): [number, number] {
  if (n <= 0) return [0, 1];
  const z = 1.96,
    p = passed / n,
    d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d,
    h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

/** Deterministic split by id: sha256("cairn-split:<id>") read as a fraction in [0, 1). */
export function splitOf(id: number, testFraction: number): 'train' | 'test' {
  if (testFraction <= 0) return 'train';
  const h = createHash('sha256').update(`cairn-split:${id}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < testFraction ? 'test' : 'train';
}

export const dataSource = (env: string) => `cairn/${env}`;

interface BatchGrading {
  settings: BatchSettings;
  wallFactor: number;
  memoryMb: number;
}

/** Each batch's recorded settings and what its grader used (wall factor, memory). */
export async function batchGrading(db: Database, batchIds: readonly string[]): Promise<Map<string, BatchGrading>> {
  const rows = await db
    .select({ id: batches.id, settings: batches.settings })
    .from(batches)
    .where(inArray(batches.id, [...batchIds]));
  const out = new Map<string, BatchGrading>();
  for (const r of rows) {
    const grader = (await listProvenance(db, r.id)).find((p) => p.role === 'grader')?.details ?? {};
    const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
    out.set(r.id, {
      settings: parseBatchSettings(r.settings, r.id),
      wallFactor: num(grader.wallFactor, 3),
      memoryMb: num(grader.memoryMb, 256),
    });
  }
  return out;
}

/** The reference's CPU ms per input of each problem (the attempt limit is calibrated from it). */
export async function refCpu(db: Database, ids: readonly number[]): Promise<Map<number, number[]>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select({ id: problems.id, ref: problems.refCpuMs })
    .from(problems)
    .where(inArray(problems.id, [...ids]));
  return new Map(rows.map((r) => [r.id, r.ref ?? []]));
}

export function cairnGroundTruth(r: ExportRecord, g: BatchGrading, ref: number[]): CairnGroundTruth {
  const env = environment(r.env);
  const job = env.gradeJob({ code: r.code, inputs: r.inputs, outputs: r.outputs, message: r.message }, ANSWER_SENTINEL);
  // The grader's own rule (activities/grader.ts): max(floor, slack x the reference's max CPU ms).
  const limit = Math.max(g.settings.timeLimitMs, Math.ceil(g.settings.timeSlack * Math.max(0, ...ref)));
  return { env: r.env, ...job, time_limit_ms: limit, wall_factor: g.wallFactor, memory_mb: g.memoryMb };
}

export function trainerRow(r: ExportRecord, g: BatchGrading, ref: number[], split: string, gt: string | null): TrainerRow {
  const env = environment(r.env);
  const prompt = env.studentMessages(
    { code: r.code, inputs: r.inputs, outputs: r.outputs, message: r.message },
    { visiblePairs: g.settings.visiblePairs },
  );
  const [lo, hi] = wilson(r.passed, r.attempts);
  return {
    data_source: gt === null ? dataSource(r.env) : 'apps',
    prompt,
    ability: 'code',
    reward_model: { style: 'rule', ground_truth: gt ?? JSON.stringify(cairnGroundTruth(r, g, ref)) },
    extra_info: {
      id: r.id,
      batch_id: r.batch_id,
      env: r.env,
      split,
      pass_rate: r.pass_rate,
      pass_rate_low: lo,
      pass_rate_high: hi,
      attempts: r.attempts,
      passed: r.passed,
      difficulty_bin: r.difficulty_bin,
      chain_id: r.chain_id,
      parent_id: r.parent_id,
      turn: r.turn,
      level: r.level,
      seed_id: r.seed.id,
      seed_source: r.seed.source,
    },
  };
}
