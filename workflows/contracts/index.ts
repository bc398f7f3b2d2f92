/**
 * Names and types shared by workflows, activities and scripts. No Node or SDK-runtime imports
 * beyond @temporalio/common, so workflow code may import it by value.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TASK_QUEUES = {
  orchestration: 'cairn-orchestration',
  teacher: 'cairn-teacher',
  student: 'cairn-student',
  grader: 'cairn-grader',
} as const;
export type QueueName = keyof typeof TASK_QUEUES;

/** ApplicationFailure types: classification is done in activities, policy in workflows. */
export const ERR = {
  rateLimited: 'RateLimited',
  llmUnavailable: 'LlmUnavailable',
  llmRejected: 'LlmRequestRejected',
  sandboxInfra: 'SandboxInfraError',
  badBatch: 'BadBatch',
} as const;

export const SA = {
  batchId: defineSearchAttributeKey('BatchId', SearchAttributeType.KEYWORD),
  seedId: defineSearchAttributeKey('SeedId', SearchAttributeType.KEYWORD),
  env: defineSearchAttributeKey('Env', SearchAttributeType.KEYWORD),
  turn: defineSearchAttributeKey('Turn', SearchAttributeType.INT),
  phase: defineSearchAttributeKey('Phase', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD),
  passRate: defineSearchAttributeKey('PassRate', SearchAttributeType.DOUBLE),
};
export const SEARCH_ATTRIBUTES = Object.values(SA);

export type EnvName = 'induction' | 'abduction' | 'deduction' | 'fuzzing';
export const ENVS: readonly EnvName[] = ['induction', 'abduction', 'deduction', 'fuzzing'];

/** What the teacher is asked to do next (the text is rendered by the environment). */
export type Instruction = 'initial' | 'harder' | 'harder_weak_tests' | 'easier' | 'keep' | 'fix'
  | 'chain_hard' | 'chain_harder' | 'chain_easier' | 'chain_medium' | 'chain_easy';

/** multi: the paper's multi-turn loop; single: T independent teacher calls (the baseline); chain: hard, then medium and easy variants. */
export type Mode = 'multi' | 'single' | 'chain';
export const MODES: readonly Mode[] = ['multi', 'single', 'chain'];

export type Level = 'hard' | 'medium' | 'easy';
/** Pass-rate bins of the explicit stepping-stone chains (method.md, M = 32). */
export type ChainBins = Record<Level, [number, number]>;
export const PAPER_CHAIN_BINS: ChainBins = { hard: [0.05, 0.16], medium: [0.41, 0.59], easy: [0.81, 0.91] };

export interface SeedWorkflowInput {
  batchId: string;
  seedId: string;
  env: EnvName;
  turns: number;
  attempts: number;
  /** Started by a BatchWorkflow: signal it when this seed ends. */
  notifyBatch?: boolean;
  /** Default multi. */
  mode?: Mode;
  /** Chain mode's bins (default the paper's). */
  chainBins?: ChainBins;
}

export interface TurnSummary {
  turn: number;
  problemId: number;
  valid: boolean;
  passRate: number | null;
}

export interface SeedWorkflowResult {
  outcome: SeedOutcome;
  turns: TurnSummary[];
}

/** in_band: at least one valid problem with 0 < p < 1; else why not. */
export type SeedOutcome = 'in_band' | 'all_invalid' | 'out_of_band';

export function seedWorkflowId(batchId: string, seedId: string): string {
  return `seed/${batchId}/${seedId}`;
}

export function problemKey(batchId: string, seedId: string, turn: number): string {
  return `${batchId}/${seedId}/t${turn}`;
}

export function batchWorkflowId(batchId: string): string {
  return `batch/${batchId}`;
}

export interface BatchWorkflowInput {
  batchId: string;
  /** One environment, or several with weights (each seed gets one, by a hash of its id). */
  env: EnvName;
  envWeights?: Partial<Record<EnvName, number>>;
  mode?: Mode;
  chainBins?: ChainBins;
  turns: number;
  attempts: number;
  /** Most seeds open at once. */
  window: number;
  paused?: boolean;
  /** Carried across continue-as-new: seeds started and not yet seen to finish. */
  open?: string[];
  /** Carried: the last seed id paged from Postgres. */
  cursor?: string;
  /** Carried totals. */
  counts?: BatchCounts;
  /** Children to start per run before continuing as new (tests use a small number). */
  childrenPerRun?: number;
}

export interface BatchCounts { started: number; finished: number; failed: number }

export interface BatchProgress extends BatchCounts {
  open: number;
  window: number;
  paused: boolean;
  cancelled: boolean;
  /** True once every seed has been paged from Postgres. */
  exhausted: boolean;
  /** Why the batch paused itself (an endpoint rejected a request: fix the setting, then resume). */
  stopReason: string | null;
}

export interface SeedDone {
  seedId: string;
  ok: boolean;
  /** Set when the seed failed because an LLM endpoint rejected the request (bad key, unknown model). */
  rejected?: string;
}
