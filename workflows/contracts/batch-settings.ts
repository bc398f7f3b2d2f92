/**
 * A batch's settings: validated once when the batch starts (`batchSettingsFrom`), recorded in
 * Postgres with the batch, and read back only through `parseBatchSettings`. Workflows get what they
 * decide with (turns, M, mode, bins) in their input, derived from this record; an activity that
 * needs another setting (dedup scope, visible pairs, time limits) reads the typed record. Nothing
 * batch-specific is a worker constant. Pure: workflow code may import it.
 */
import { LEVELS, PAPER_CHAIN_BINS, type ChainBins, type Range } from '../method/numbers';
import { SAMPLING_MODES, type SamplingMode } from '../method/sampling';

export type { SamplingMode };

export type EnvName = 'induction' | 'abduction' | 'deduction' | 'fuzzing';
export const ENVS: readonly EnvName[] = ['induction', 'abduction', 'deduction', 'fuzzing'];

/** multi: the paper's multi-turn loop; single: T independent teacher calls (the baseline); chain: hard, then medium and easy variants. */
export type Mode = 'multi' | 'single' | 'chain';
export const MODES: readonly Mode[] = ['multi', 'single', 'chain'];

/** Where duplicates are looked for before any student compute is spent. */
export type DedupScope = 'global' | 'batch' | 'off';
export const DEDUP_SCOPES: readonly DedupScope[] = ['global', 'batch', 'off'];

/** Benchmarks a problem is checked against (n-gram overlap) before any student compute, or off. */
export type DecontamSetting = 'humaneval' | 'off';
export const DECONTAM_SETTINGS: readonly DecontamSetting[] = ['humaneval', 'off'];

export interface BatchSettings {
  env: EnvName;
  /** Environment weights when the batch mixes environments (each seed gets one by a hash of its id). */
  envWeights?: Partial<Record<EnvName, number>>;
  mode: Mode;
  /** Teacher turns per seed. */
  turns: number;
  /** Student attempts per valid problem (M): all of them (fixed), or at most (adaptive). */
  attempts: number;
  /** fixed: M samples per valid problem (the paper); adaptive: rounds of 4, 8, 16, ... up to M, stopping once the pass rate's use is settled. */
  sampling: SamplingMode;
  /** Confidence level of the pass-rate interval (Wilson) recorded per problem and used by adaptive sampling. */
  confidence: number;
  /** Chain mode's target bins (also what the teacher is asked for). */
  chainBins: ChainBins;
  dedup: DedupScope;
  /**
   * Near-duplicates, in the dedup scope: a problem whose code shares at least this estimated
   * fraction (Jaccard, MinHash over normalized token 4-grams) with an earlier one is a duplicate; or off.
   */
  nearDup: number | 'off';
  /** Contamination check against public benchmarks (HumanEval) before the student sees a problem. */
  decontam: DecontamSetting;
  /** Induction: input/output pairs the student is shown (the rest stay hidden tests). */
  visiblePairs: number;
  /** Per-input CPU-time floor for the teacher's code and for attempts, ms. */
  timeLimitMs: number;
  /** An attempt's limit is max(timeLimitMs, timeSlack x the reference's CPU time on that input). */
  timeSlack: number;
  /** The seed file the batch was loaded from (absolute), so a resume can finish a half-done load. */
  seedFile: string;
  /**
   * Student answers the server cut at max_tokens (finish_reason length): left out of the pass rate
   * (absent, the default: they say nothing about the problem) or counted as failures ('fail').
   */
  truncated?: TruncatedSetting;
  /** Sample afresh: joins every LLM request's cache key (and moves its seed), so answers cached by other batches are not reused. */
  sampleSalt?: string;
  /** Pause the batch once its LLM spend (priced by the workers' CAIRN_PRICES) reaches this many USD; absent: no budget. */
  budgetUsd?: number;
}

export type TruncatedSetting = 'exclude' | 'fail';
export const TRUNCATED_SETTINGS: readonly TruncatedSetting[] = ['exclude', 'fail'];

/** What a caller may set; everything else has the defaults below. */
export interface BatchOptions {
  seedFile: string;
  /** An environment name or a weighted mix, e.g. `induction=2,deduction` (see parseEnvSpec). */
  env?: string;
  mode?: string;
  turns?: number;
  attempts?: number;
  sampling?: string;
  confidence?: number;
  chainBins?: ChainBins;
  dedup?: string;
  /** A threshold in (0, 1], or 'off'. */
  nearDup?: number | string;
  decontam?: string;
  visiblePairs?: number;
  timeLimitMs?: number;
  timeSlack?: number;
  truncated?: string;
  sampleSalt?: string;
  /** USD; the batch pauses itself when its spend reaches it. */
  budgetUsd?: number;
}

export const BATCH_DEFAULTS = {
  env: 'induction',
  mode: 'multi',
  turns: 4,
  attempts: 8,
  sampling: 'fixed',
  confidence: 0.95,
  dedup: 'global',
  nearDup: 'off',
  decontam: 'humaneval',
  visiblePairs: 3,
  timeLimitMs: 2000,
  timeSlack: 10,
  truncated: 'exclude',
} as const;

/** A bad setting: names the option (as the CLI flag) and what it accepts. */
export class BatchSettingsError extends Error {
  override name = 'BatchSettingsError';
}

/** `induction`, or a weighted mix `induction=2,abduction,deduction=0.5` (weight 1 when omitted). */
export function parseEnvSpec(spec: string): { env: EnvName; weights?: Partial<Record<EnvName, number>> } {
  const weights: Partial<Record<EnvName, number>> = {};
  for (const part of spec
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [name, w] = part.split('=');
    if (!ENVS.includes(name as EnvName))
      throw new BatchSettingsError(`--env ${spec}: unknown environment "${name}"; choose from ${ENVS.join(', ')} (weights as name=2).`);
    const weight = w === undefined ? 1 : Number(w);
    if (!(weight > 0)) throw new BatchSettingsError(`--env ${spec}: the weight of ${name} must be a number > 0.`);
    weights[name as EnvName] = weight;
  }
  const names = Object.keys(weights) as EnvName[];
  if (names.length === 0) throw new BatchSettingsError(`--env: name at least one environment (${ENVS.join(', ')}).`);
  return names.length === 1 ? { env: names[0] as EnvName } : { env: names[0] as EnvName, weights };
}

/** `hard=0.05-0.16,medium=0.41-0.59,easy=0.81-0.91` (the CLI's --chain-bins); levels not named keep the paper's. */
export function parseChainBinsSpec(spec: string): ChainBins {
  const bins: ChainBins = { ...PAPER_CHAIN_BINS };
  for (const part of spec
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^(hard|medium|easy)=([0-9.]+)-([0-9.]+)$/.exec(part);
    if (!m)
      throw new BatchSettingsError(
        `--chain-bins ${spec}: write level=low-high for hard, medium, easy, e.g. hard=0.05-0.16,medium=0.41-0.59.`,
      );
    bins[m[1] as keyof ChainBins] = [Number(m[2]), Number(m[3])];
  }
  return checkChainBins(bins, `--chain-bins ${spec}`);
}

function wholeAtLeast(flag: string, v: number, min: number, hint = ''): number {
  if (!Number.isInteger(v) || v < min) throw new BatchSettingsError(`${flag} ${v}: must be a whole number >= ${min}${hint}.`);
  return v;
}

function checkChainBins(bins: ChainBins, where: string): ChainBins {
  for (const level of LEVELS) {
    const r = bins[level] as Range | undefined;
    if (!Array.isArray(r) || r.length !== 2 || !(r[0] >= 0 && r[0] <= r[1] && r[1] <= 1)) {
      throw new BatchSettingsError(`${where}: the ${level} bin must be [low, high] with 0 <= low <= high <= 1 (got ${JSON.stringify(r)}).`);
    }
  }
  return { hard: bins.hard, medium: bins.medium, easy: bins.easy };
}

function checkSalt(s: string): string {
  if (typeof s !== 'string' || s.length > 100 || !/^[\w.:-]+$/.test(s))
    throw new BatchSettingsError(`--sample-salt ${String(s)}: use up to 100 letters, digits, '.', ':', '-' or '_'.`);
  return s;
}

/** `--near-dup`: a Jaccard threshold in (0, 1] (as a number or its text), or 'off'. */
export function parseNearDup(v: number | string): number | 'off' {
  if (v === 'off') return 'off';
  const n = typeof v === 'number' ? v : /^\s*(0(\.\d+)?|1(\.0*)?|\.\d+)\s*$/.test(v) ? Number(v) : NaN;
  if (!(n > 0 && n <= 1)) throw new BatchSettingsError(`--near-dup ${String(v)}: give a similarity threshold in (0, 1], e.g. 0.8, or off.`);
  return n;
}

/** Validates a caller's options into the settings to record. Throws BatchSettingsError naming the flag. */
export function batchSettingsFrom(o: BatchOptions): BatchSettings {
  const envs = parseEnvSpec(o.env ?? BATCH_DEFAULTS.env);
  const mode = o.mode ?? BATCH_DEFAULTS.mode;
  if (!MODES.includes(mode as Mode)) throw new BatchSettingsError(`--mode ${mode}: choose one of ${MODES.join(', ')}.`);
  const dedup = o.dedup ?? BATCH_DEFAULTS.dedup;
  if (!DEDUP_SCOPES.includes(dedup as DedupScope)) throw new BatchSettingsError(`--dedup ${dedup}: choose global, batch or off.`);
  const decontam = o.decontam ?? BATCH_DEFAULTS.decontam;
  if (!DECONTAM_SETTINGS.includes(decontam as DecontamSetting))
    throw new BatchSettingsError(`--decontam ${decontam}: choose ${DECONTAM_SETTINGS.join(' or ')}.`);
  const nearDup = parseNearDup(o.nearDup ?? BATCH_DEFAULTS.nearDup);
  const sampling = o.sampling ?? BATCH_DEFAULTS.sampling;
  if (!SAMPLING_MODES.includes(sampling as SamplingMode))
    throw new BatchSettingsError(`--sampling ${sampling}: choose ${SAMPLING_MODES.join(' or ')}.`);
  const confidence = o.confidence ?? BATCH_DEFAULTS.confidence;
  if (typeof confidence !== 'number' || !(confidence >= 0.5 && confidence < 1))
    throw new BatchSettingsError(`--confidence ${confidence}: must be a level in [0.5, 1), e.g. 0.95.`);
  if (o.budgetUsd !== undefined && !(typeof o.budgetUsd === 'number' && Number.isFinite(o.budgetUsd) && o.budgetUsd > 0))
    throw new BatchSettingsError(`--budget ${o.budgetUsd}: must be an amount in USD > 0, e.g. 25.`);
  if (typeof o.seedFile !== 'string' || o.seedFile === '') throw new BatchSettingsError('--seeds: name the seed file (JSONL).');
  const truncated = o.truncated ?? BATCH_DEFAULTS.truncated;
  if (!TRUNCATED_SETTINGS.includes(truncated as TruncatedSetting))
    throw new BatchSettingsError(`--truncated ${truncated}: choose exclude (left out of the pass rate) or fail (counted as failures).`);
  return {
    env: envs.env,
    ...(envs.weights ? { envWeights: envs.weights } : {}),
    mode: mode as Mode,
    turns: wholeAtLeast('--turns', o.turns ?? BATCH_DEFAULTS.turns, 1),
    attempts: wholeAtLeast('--attempts', o.attempts ?? BATCH_DEFAULTS.attempts, 1, ' (the paper uses 32)'),
    sampling: sampling as SamplingMode,
    confidence,
    chainBins: checkChainBins(o.chainBins ?? PAPER_CHAIN_BINS, '--chain-bins'),
    dedup: dedup as DedupScope,
    nearDup,
    decontam: decontam as DecontamSetting,
    visiblePairs: wholeAtLeast('--visible-pairs', o.visiblePairs ?? BATCH_DEFAULTS.visiblePairs, 0),
    timeLimitMs: wholeAtLeast('--time-limit-ms', o.timeLimitMs ?? BATCH_DEFAULTS.timeLimitMs, 100),
    timeSlack: wholeAtLeast('--time-slack', o.timeSlack ?? BATCH_DEFAULTS.timeSlack, 1),
    seedFile: o.seedFile,
    // Recorded only when not the default, so settings written before it existed read back the same.
    ...(truncated === 'fail' ? { truncated: 'fail' as const } : {}),
    ...(o.sampleSalt ? { sampleSalt: checkSalt(o.sampleSalt) } : {}),
    ...(o.budgetUsd === undefined ? {} : { budgetUsd: o.budgetUsd }),
  };
}

/**
 * Reads a batch's recorded settings back, checked. Records written before a setting existed get
 * the value that was then built in (visiblePairs 3, timeSlack 10, the paper's chain bins, global
 * dedup, no decontamination), so old batches resume exactly as they ran.
 */
export function parseBatchSettings(raw: unknown, batchId: string): BatchSettings {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BatchSettingsError(
      `batch ${batchId}: its recorded settings are not an object; the batches row is damaged (start the batch under a new id).`,
    );
  }
  const r = raw as Record<string, unknown>;
  try {
    const num = (k: string): number | undefined => {
      if (r[k] === undefined) return undefined;
      if (typeof r[k] !== 'number') throw new BatchSettingsError(`${k} is ${JSON.stringify(r[k])}, not a number`);
      return r[k] as number;
    };
    const s = batchSettingsFrom({
      seedFile: typeof r.seedFile === 'string' && r.seedFile !== '' ? r.seedFile : '(not recorded)',
      env: typeof r.env === 'string' ? r.env : undefined,
      mode: r.mode as string | undefined,
      turns: num('turns'),
      attempts: num('attempts'),
      // Batches recorded before adaptive sampling existed sampled M each.
      sampling: r.sampling as string | undefined,
      confidence: num('confidence'),
      chainBins: r.chainBins as ChainBins | undefined,
      dedup: r.dedup as string | undefined,
      // Batches recorded before near-duplicates existed ran without them.
      nearDup: r.nearDup === undefined ? 'off' : (r.nearDup as number | string),
      // Batches recorded before the check existed ran without it.
      decontam: r.decontam === undefined ? 'off' : (r.decontam as string),
      visiblePairs: num('visiblePairs'),
      timeLimitMs: num('timeLimitMs'),
      timeSlack: num('timeSlack'),
      truncated: r.truncated === undefined ? undefined : String(r.truncated),
      sampleSalt: r.sampleSalt === undefined ? undefined : String(r.sampleSalt),
      budgetUsd: num('budgetUsd'),
    });
    if (r.envWeights !== undefined && r.envWeights !== null) {
      // Checked as parseEnvSpec would; the recorded order is kept (assignment sorts by name anyway).
      const spec = Object.entries(r.envWeights as Record<string, unknown>)
        .map(([k, w]) => `${k}=${String(w)}`)
        .join(',');
      const mix = parseEnvSpec(spec);
      if (mix.weights) s.envWeights = mix.weights;
    }
    return s;
  } catch (err) {
    throw new BatchSettingsError(
      `batch ${batchId}: its recorded settings are invalid (${(err as Error).message}); the batches row is damaged.`,
    );
  }
}
