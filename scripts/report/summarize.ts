/**
 * The report's numbers from a batch's problem rows: pure functions, no I/O, so every number on
 * the page can be checked against rows a test wrote.
 */
import { histogramIndex, histogramLabels } from '../../db/queries/stats';
import { inBand, type Band } from '../dataset/bins';

/** What the report needs of a problem row (no generated text). */
export interface ProblemFacts {
  id: number;
  seedId: string;
  env: string;
  turn: number;
  status: 'proposed' | 'invalid' | 'duplicate' | 'valid' | 'graded' | 'failed';
  invalidReason: string | null;
  passRate: number | null;
  chainId: string;
  duplicateOf: number | null;
}

export interface TurnStats {
  turn: number;
  problems: number;
  /** Passed validation: 'valid' or 'graded' (a duplicate is counted apart). */
  valid: number;
  invalid: number;
  duplicate: number;
  /** Written, not yet validated (a running batch). */
  pending: number;
  graded: number;
  /** Graded, not a duplicate, min <= p <= max: what `cairn export` keeps. */
  usable: number;
  meanPassRate: number | null;
}

export interface HistogramRow {
  key: string;
  counts: number[];
}

export const HIST_LABELS = histogramLabels();

/** Invalid reasons with their numbers blanked, so "input 3 raised" and "input 4 raised" group. */
export function normalizeReason(r: string | null): string {
  return (r ?? 'unknown')
    .replace(/input \d+/g, 'input N')
    .replace(/line \d+/g, 'line N')
    .slice(0, 140);
}

export function isUsable(p: Pick<ProblemFacts, 'status' | 'passRate' | 'duplicateOf'>, band: Band): boolean {
  return p.status === 'graded' && p.duplicateOf === null && p.passRate !== null && inBand(p.passRate, band);
}

export function turnStats(rows: readonly ProblemFacts[], band: Band): TurnStats[] {
  const by = new Map<number, TurnStats & { sum: number }>();
  for (const r of rows) {
    let t = by.get(r.turn);
    if (!t)
      by.set(
        r.turn,
        (t = {
          turn: r.turn,
          problems: 0,
          valid: 0,
          invalid: 0,
          duplicate: 0,
          pending: 0,
          graded: 0,
          usable: 0,
          meanPassRate: null,
          sum: 0,
        }),
      );
    t.problems++;
    if (r.status === 'invalid') t.invalid++;
    else if (r.status === 'duplicate') t.duplicate++;
    else if (r.status === 'proposed') t.pending++;
    else t.valid++;
    if (r.status === 'graded' && r.passRate !== null) {
      t.graded++;
      t.sum += r.passRate;
    }
    if (isUsable(r, band)) t.usable++;
  }
  return [...by.values()]
    .sort((a, b) => a.turn - b.turn)
    .map(({ sum, ...t }) => ({ ...t, meanPassRate: t.graded ? sum / t.graded : null }));
}

/** Invalid reasons by turn: [reason, counts per turn (in `turns` order), total], most frequent first. */
export function invalidReasons(
  rows: readonly ProblemFacts[],
  turns: readonly number[],
): { reason: string; byTurn: number[]; total: number }[] {
  const m = new Map<string, number[]>();
  for (const r of rows) {
    if (r.status !== 'invalid') continue;
    const key = normalizeReason(r.invalidReason);
    const counts = m.get(key) ?? turns.map(() => 0);
    m.set(key, counts);
    const i = turns.indexOf(r.turn);
    if (i >= 0) counts[i] = (counts[i] ?? 0) + 1;
  }
  return [...m]
    .map(([reason, byTurn]) => ({ reason, byTurn, total: byTurn.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || a.reason.localeCompare(b.reason));
}

/** Pass-rate histograms of graded, non-duplicate problems, grouped by `key` (turn or env). */
export function histograms(rows: readonly ProblemFacts[], key: (r: ProblemFacts) => string): HistogramRow[] {
  const m = new Map<string, number[]>();
  for (const r of rows) {
    if (r.status !== 'graded' || r.passRate === null || r.duplicateOf !== null) continue;
    const k = key(r);
    const counts = m.get(k) ?? HIST_LABELS.map(() => 0);
    m.set(k, counts);
    const i = histogramIndex(r.passRate);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return [...m].map(([k, counts]) => ({ key: k, counts }));
}

/** Yield of a set of problems: what a mode got out of the same seeds. */
export interface YieldStats {
  seeds: number;
  problems: number;
  valid: number;
  graded: number;
  usable: number;
}

export function yieldOf(rows: readonly ProblemFacts[], band: Band, seeds: number): YieldStats {
  let valid = 0;
  let graded = 0;
  let usable = 0;
  for (const r of rows) {
    if (r.status === 'valid' || r.status === 'graded') valid++;
    if (r.status === 'graded') graded++;
    if (isUsable(r, band)) usable++;
  }
  return { seeds, problems: rows.length, valid, graded, usable };
}

/**
 * Chains worth showing as stepping stones: most graded problems first, then the widest pass-rate
 * spread, then chain id (stable).
 */
export function pickChains(rows: readonly ProblemFacts[], n: number): string[] {
  const m = new Map<string, { graded: number; lo: number; hi: number; size: number }>();
  for (const r of rows) {
    const c = m.get(r.chainId) ?? { graded: 0, lo: 1, hi: 0, size: 0 };
    m.set(r.chainId, c);
    c.size++;
    if (r.status === 'graded' && r.passRate !== null) {
      c.graded++;
      c.lo = Math.min(c.lo, r.passRate);
      c.hi = Math.max(c.hi, r.passRate);
    }
  }
  return [...m]
    .filter(([, c]) => c.size > 0)
    .sort(([a, x], [b, y]) => y.graded - x.graded || y.hi - y.lo - (x.hi - x.lo) || y.size - x.size || a.localeCompare(b))
    .slice(0, n)
    .map(([k]) => k);
}
