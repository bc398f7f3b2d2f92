/**
 * Curricula (method.md "Curricula"): sampling weights per difficulty bin by RL-step range, as the
 * paper ran them over 40K RL steps. `cairn export --curriculum NAME --steps N` scales the step
 * ranges to N proportionally (each edge becomes round(edge * N / 40000), halves up), keeps the
 * weights exactly, and writes the plan as `<out>.curriculum.json` (schema: CurriculumPlan below).
 * Pure: no I/O.
 */
import { binNames, type BinSetName } from './bins';

export const PAPER_STEPS = 40_000;

export type CurriculumName = 'soft' | 'hard' | 'classic' | 'reverse' | 'medium-easy' | 'uniform';
export const CURRICULUM_NAMES: readonly CurriculumName[] = ['soft', 'hard', 'classic', 'reverse', 'medium-easy', 'uniform'];

interface PaperPhase {
  from: number;
  to: number;
  weights: Record<string, number>;
}

export interface CurriculumDef {
  name: CurriculumName;
  /** The bins the paper ran it on; `--bins` may override where the named bins exist. */
  binSet: BinSetName | null;
  description: string;
  /** null: no schedule (uniform over the records). */
  phases: PaperPhase[] | null;
}

const emh = (easy: number, medium: number, hard: number) => ({ easy, medium, hard });

/** The paper's tables, verbatim (weights easy/medium/hard unless named). */
export const CURRICULA: Readonly<Record<CurriculumName, CurriculumDef>> = {
  soft: {
    name: 'soft',
    binSet: 'chain',
    description: 'soft: easy-heavy, then medium, then a hard-leaning mix, then hard (weights never 0)',
    phases: [
      { from: 0, to: 7_500, weights: emh(0.8, 0.15, 0.05) },
      { from: 7_500, to: 17_500, weights: emh(0.15, 0.8, 0.05) },
      { from: 17_500, to: 30_000, weights: emh(0.15, 0.4, 0.45) },
      { from: 30_000, to: 40_000, weights: emh(0.05, 0.15, 0.8) },
    ],
  },
  hard: {
    name: 'hard',
    binSet: 'chain',
    description: 'hard: 0.90 on easy, then medium, then hard, 0.05 on each other bin',
    phases: [
      { from: 0, to: 7_500, weights: emh(0.9, 0.05, 0.05) },
      { from: 7_500, to: 17_500, weights: emh(0.05, 0.9, 0.05) },
      { from: 17_500, to: 40_000, weights: emh(0.05, 0.05, 0.9) },
    ],
  },
  classic: {
    name: 'classic',
    binSet: 'broad',
    description: 'classic: easy, then medium, then hard, with short mixed hand-overs (easy-medium unused)',
    phases: [
      { from: 0, to: 10_000, weights: emh(1, 0, 0) },
      { from: 10_000, to: 15_000, weights: emh(0.75, 0.25, 0) },
      { from: 15_000, to: 25_000, weights: emh(0, 1, 0) },
      { from: 25_000, to: 30_000, weights: emh(0, 0.75, 0.25) },
      { from: 30_000, to: 40_000, weights: emh(0, 0, 1) },
    ],
  },
  reverse: {
    name: 'reverse',
    binSet: 'broad',
    description: 'reverse: the mirror of classic, hard first (easy-medium unused)',
    phases: [
      { from: 0, to: 10_000, weights: emh(0, 0, 1) },
      { from: 10_000, to: 15_000, weights: emh(0, 0.25, 0.75) },
      { from: 15_000, to: 25_000, weights: emh(0, 1, 0) },
      { from: 25_000, to: 30_000, weights: emh(0.25, 0.75, 0) },
      { from: 30_000, to: 40_000, weights: emh(1, 0, 0) },
    ],
  },
  'medium-easy': {
    name: 'medium-easy',
    binSet: 'broad',
    description: 'medium-to-easy: medium, a short mix, then easy-medium',
    phases: [
      { from: 0, to: 17_500, weights: { medium: 1 } },
      { from: 17_500, to: 20_000, weights: { 'easy-medium': 0.25, medium: 0.75 } },
      { from: 20_000, to: 40_000, weights: { 'easy-medium': 1 } },
    ],
  },
  uniform: { name: 'uniform', binSet: null, description: 'uniform: no schedule; sample the records uniformly', phases: null },
};

export function parseCurriculum(v: string): CurriculumName {
  const name = v === 'medium-to-easy' ? 'medium-easy' : v;
  if (!(CURRICULUM_NAMES as readonly string[]).includes(name))
    throw new Error(`--curriculum ${v}: choose one of ${CURRICULUM_NAMES.join(', ')}.`);
  return name as CurriculumName;
}

/** `<out>.curriculum.json`. Version the schema string when a field changes meaning. */
export interface CurriculumPlan {
  schema: 'cairn.curriculum/v1';
  curriculum: CurriculumName;
  description: string;
  /** Bin set the weights refer to, and its bins (pass-rate ranges). Records carry `difficulty_bin`. */
  bin_set: BinSetName;
  bins: { name: string; min: number; max: number }[];
  paper_steps: number;
  steps: number;
  batch_size: number;
  /** How the dataset file splits across bins (records in no bin are never sampled). */
  dataset: { file: string; format: string; records: number; per_bin: Record<string, number>; unbinned: number };
  phases: CurriculumPhase[];
  warnings: string[];
}

export interface CurriculumPhase {
  /** Steps [start_step, end_step) of this run, scaled from the paper's [paper_start_step, paper_end_step). */
  start_step: number;
  end_step: number;
  paper_start_step: number;
  paper_end_step: number;
  /** Sampling weight per bin (every bin of the set, zeros included); null for uniform: sample records uniformly. */
  weights: Record<string, number> | null;
  /** Problems per batch from each bin: weights x batch_size, rounded by largest remainder to sum to batch_size. */
  per_batch: Record<string, number> | null;
  /** Expected draws from each bin over the phase (weight x batch_size x steps) and how many passes over the bin's records that is. */
  draws: Record<string, number> | null;
  epochs: Record<string, number | null> | null;
}

/** round(edge * steps / PAPER_STEPS), halves up, in integers (no float drift on the edges). */
export function scaleStep(edge: number, steps: number): number {
  return Math.floor((edge * steps + PAPER_STEPS / 2) / PAPER_STEPS);
}

/** Splits `total` by weights into integers that add up to `total` (largest remainder; ties to the earlier bin). */
export function apportion(weights: Record<string, number>, total: number): Record<string, number> {
  const names = Object.keys(weights);
  const sum = names.reduce((s, n) => s + (weights[n] ?? 0), 0);
  const exact = names.map((n) => ((weights[n] ?? 0) / (sum || 1)) * total);
  const out = names.map((_, i) => Math.floor((exact[i] as number) + 1e-9));
  let left = total - out.reduce((a, b) => a + b, 0);
  // Remainders rounded to 1e-9 so float noise (0.8 * 32 = 25.600000000000001) cannot break a tie.
  const rem = names.map((_, i) => Math.round(((exact[i] as number) - (out[i] as number)) * 1e9));
  const order = names.map((_, i) => i).sort((a, b) => (rem[b] as number) - (rem[a] as number) || a - b);
  for (const i of order) {
    if (left <= 0) break;
    if ((weights[names[i] as string] ?? 0) <= 0) continue;
    out[i] = (out[i] as number) + 1;
    left--;
  }
  return Object.fromEntries(names.map((n, i) => [n, out[i] as number]));
}

export interface PlanInput {
  curriculum: CurriculumName;
  binSet: BinSetName;
  bins: { name: string; min: number; max: number }[];
  steps: number;
  batchSize: number;
  dataset: CurriculumPlan['dataset'];
}

/** The bin set a curriculum uses unless `--bins` says otherwise. */
export function defaultBinSet(c: CurriculumName): BinSetName | null {
  return CURRICULA[c].binSet;
}

export function buildCurriculumPlan(i: PlanInput): CurriculumPlan {
  const def = CURRICULA[i.curriculum];
  if (!Number.isInteger(i.steps) || i.steps < 1) throw new Error(`--steps ${i.steps}: must be a whole number >= 1.`);
  if (!Number.isInteger(i.batchSize) || i.batchSize < 1) throw new Error(`--batch-size ${i.batchSize}: must be a whole number >= 1.`);
  const names = binNames(i.binSet);
  const warnings: string[] = [];
  const paper = def.phases ?? [{ from: 0, to: PAPER_STEPS, weights: null }];
  const phases: CurriculumPhase[] = paper.map((p) => {
    const start = scaleStep(p.from, i.steps);
    const end = scaleStep(p.to, i.steps);
    if (!p.weights)
      return {
        start_step: start,
        end_step: end,
        paper_start_step: p.from,
        paper_end_step: p.to,
        weights: null,
        per_batch: null,
        draws: null,
        epochs: null,
      };
    for (const n of Object.keys(p.weights)) {
      if (!names.includes(n))
        throw new Error(
          `--curriculum ${i.curriculum} samples bin "${n}", which the ${i.binSet} bins do not have; use --bins ${def.binSet}.`,
        );
    }
    const weights = Object.fromEntries(names.map((n) => [n, p.weights?.[n] ?? 0]));
    const draws = Object.fromEntries(names.map((n) => [n, Math.round((weights[n] ?? 0) * i.batchSize * (end - start))]));
    const epochs = Object.fromEntries(
      names.map((n) => {
        const have = i.dataset.per_bin[n] ?? 0;
        return [n, have > 0 ? Number(((draws[n] ?? 0) / have).toFixed(3)) : null];
      }),
    );
    for (const n of names) {
      if ((weights[n] ?? 0) > 0 && (i.dataset.per_bin[n] ?? 0) === 0)
        warnings.push(`steps ${start}-${end}: bin ${n} has weight ${weights[n]} but no records`);
    }
    return {
      start_step: start,
      end_step: end,
      paper_start_step: p.from,
      paper_end_step: p.to,
      weights,
      per_batch: apportion(weights, i.batchSize),
      draws,
      epochs,
    };
  });
  const unused = names.filter((n) => (i.dataset.per_bin[n] ?? 0) > 0 && def.phases && phases.every((p) => (p.weights?.[n] ?? 0) === 0));
  for (const n of unused) warnings.push(`bin ${n} has ${i.dataset.per_bin[n]} records that this curriculum never samples`);
  if (i.dataset.unbinned > 0 && def.phases) warnings.push(`${i.dataset.unbinned} records are in no ${i.binSet} bin and are never sampled`);
  return {
    schema: 'cairn.curriculum/v1',
    curriculum: i.curriculum,
    description: def.description,
    bin_set: i.binSet,
    bins: i.bins,
    paper_steps: PAPER_STEPS,
    steps: i.steps,
    batch_size: i.batchSize,
    dataset: i.dataset,
    phases,
    warnings,
  };
}

/** The plan as a short table for the terminal. */
export function formatCurriculumPlan(p: CurriculumPlan): string {
  const names = p.bins.map((b) => b.name);
  const lines = [
    `curriculum ${p.curriculum} over ${p.steps} steps (paper: ${p.paper_steps}), batch size ${p.batch_size}, ${p.bin_set} bins:`,
  ];
  lines.push(`  ${'steps'.padEnd(16)} ${names.map((n) => n.padStart(12)).join('')}`);
  for (const ph of p.phases) {
    const cells = ph.weights
      ? names.map((n) => `${(ph.weights?.[n] ?? 0).toFixed(2)} (${ph.per_batch?.[n] ?? 0})`.padStart(12)).join('')
      : '  uniform over the records';
    lines.push(`  ${`${ph.start_step}-${ph.end_step}`.padEnd(16)} ${cells}`);
  }
  if (p.phases.some((ph) => ph.weights)) lines.push('  (weight, and problems per batch in parentheses)');
  for (const w of p.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
