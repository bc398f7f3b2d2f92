/**
 * The method's numbers (method.md), in one place. Workflows decide with them, prompts render them
 * (`percentRange`), the dataset bins and filters by them, the report and status count with them.
 * A batch may override the chain bins; everything else here is the paper's.
 */

/** An interval of pass rates, [low, high]. */
export type Range = readonly [number, number];

export type Level = 'hard' | 'medium' | 'easy';
export const LEVELS: readonly Level[] = ['hard', 'medium', 'easy'];

/** Progression: a pass rate above this asks for a harder problem (method.md, the multi-turn loop, step 4). */
export const HARDER_ABOVE = 0.65;
/** What "harder" aims for: a medium problem. */
export const TARGET_BAND: Range = [0.35, 0.65];

/** Pass-rate bins of the explicit stepping-stone chains (method.md, M = 32); a batch may set its own. */
export type ChainBins = Record<Level, Range>;
export const PAPER_CHAIN_BINS: ChainBins = { hard: [0.05, 0.16], medium: [0.41, 0.59], easy: [0.81, 0.91] };

/** The paper's broad bins, hard to easy; adjacent (a bin holds its lower edge; the top bin also its upper). */
export const BROAD_BINS: readonly { name: string; range: Range }[] = [
  { name: 'hard', range: [0.1, 0.26] },
  { name: 'medium', range: [0.26, 0.61] },
  { name: 'easy-medium', range: [0.61, 0.85] },
  { name: 'easy', range: [0.85, 0.97] },
];

/** The dataset filter, inclusive at both ends: 0.01 <= p <= 0.97 (with M = 32: 1 to 31 solved). */
export const FILTER_BAND: Readonly<{ min: number; max: number }> = { min: 0.01, max: 0.97 };

/** A range in words for prompts: [0.35, 0.65] -> "35-65%". */
export function percentRange(r: Range): string {
  const pct = (x: number) => String(Math.round(x * 1000) / 10);
  return `${pct(r[0])}-${pct(r[1])}%`;
}
