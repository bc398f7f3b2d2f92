/** Inputs, outputs and message payloads of the workflows (ids and small numbers only, never text). */
import type { ChainBins, Level } from '../method/numbers';
import type { BatchSettings, EnvName, Mode, SamplingMode } from './batch-settings';

/** What the teacher is asked to do next (the text is rendered by the environment). */
export type Instruction =
  | 'initial'
  | 'harder'
  | 'harder_weak_tests'
  | 'easier'
  | 'keep'
  | 'fix'
  | 'chain_hard'
  | 'chain_harder'
  | 'chain_easier'
  | 'chain_medium'
  | 'chain_easy';

export type { Level };

/**
 * A seed's run, derived from the batch's recorded settings (`seedInputFrom`). Activities that need
 * other settings read the batch's typed record (`parseBatchSettings`).
 */
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
  /** adaptive: sample in rounds up to `attempts` (absent: fixed M). */
  sampling?: SamplingMode;
}

export interface TurnSummary {
  turn: number;
  problemId: number;
  valid: boolean;
  passRate: number | null;
}

/** in_band: at least one valid problem with 0 < p < 1; else why not. */
export type SeedOutcome = 'in_band' | 'all_invalid' | 'out_of_band';

export interface SeedWorkflowResult {
  outcome: SeedOutcome;
  turns: TurnSummary[];
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
  /** adaptive: seeds sample in rounds up to `attempts` (absent: fixed M). */
  sampling?: SamplingMode;
  /** The batch has a budget: check the spend (an activity reads the recorded budget) before starting seeds. */
  budgeted?: boolean;
  /** Most seeds open at once. */
  window: number;
  paused?: boolean;
  /** Carried across continue-as-new by runs before the 'bounded-batch' patch: seeds started and not yet seen to finish. */
  open?: string[];
  /** The open seeds, written to Postgres (batch_open_seeds) by the run that continued as this one: read back in pages. */
  openFrom?: { runId: string; count: number };
  /** Carried: the last seed id paged from Postgres. */
  cursor?: string;
  /** Carried totals. */
  counts?: BatchCounts;
  /** How long a full window waits for news before asking Postgres/Temporal which seeds really ended (default 2 minutes). */
  reconcileEvery?: string;
  /** Reconcile budget per run before continuing as new while idle (default 50,000; tests use a small number). */
  idleBudget?: number;
  /** Carried: idle reconciles so far, over every run (a figure for benchmarks and `batch progress`). */
  reconciles?: number;
  /** Children to start per run before continuing as new (tests use a small number). */
  childrenPerRun?: number;
}

export interface BatchCounts {
  started: number;
  finished: number;
  failed: number;
}

export interface BatchProgress extends BatchCounts {
  open: number;
  window: number;
  paused: boolean;
  cancelled: boolean;
  /** True once every seed has been paged from Postgres. */
  exhausted: boolean;
  /** Idle reconciles so far (every run of the batch workflow). */
  reconciles?: number;
  /** Why the batch paused itself (an endpoint rejected a request: fix the setting, then resume). */
  stopReason: string | null;
}

export interface SeedDone {
  seedId: string;
  ok: boolean;
  /** Set when the seed failed because an LLM endpoint rejected the request (bad key, unknown model). */
  rejected?: string;
}

/** The batch workflow's input, from the batch's recorded settings (the one route settings take). */
export function batchWorkflowInputFrom(batchId: string, s: BatchSettings, o: { window: number; paused?: boolean }): BatchWorkflowInput {
  return {
    batchId,
    env: s.env,
    ...(s.envWeights ? { envWeights: s.envWeights } : {}),
    mode: s.mode,
    ...(s.mode === 'chain' ? { chainBins: s.chainBins } : {}),
    turns: s.turns,
    attempts: s.attempts,
    ...(s.sampling === 'adaptive' ? { sampling: 'adaptive' as const } : {}),
    ...(s.budgetUsd !== undefined ? { budgeted: true } : {}),
    window: o.window,
    ...(o.paused ? { paused: true } : {}),
  };
}
