/**
 * Difficulty bins by student pass rate (method.md "Filtering and dataset" and "Stepping-stone
 * chains"). Pure: no I/O.
 *
 * - `broad`: the paper's broad bins, adjacent: hard [0.10, 0.26), medium [0.26, 0.61),
 *   easy-medium [0.61, 0.85), easy [0.85, 0.97]. A bin holds its lower edge; the top bin also
 *   holds its upper edge (0.97, the default band's maximum).
 * - `chain`: the explicit stepping-stone bins, with gaps: hard [0.05, 0.16], medium [0.41, 0.59],
 *   easy [0.81, 0.91], both edges inclusive. With M = 32 that is 2-5, 14-18 and 26-29 solved.
 *
 * A pass rate in no bin (below the lowest, above the highest, or in a chain gap) has bin `null`:
 * such a record is still exported (it passed the band filter), but flattening and curricula never
 * sample it.
 */
import { BROAD_BINS, FILTER_BAND, PAPER_CHAIN_BINS } from '../../workflows/method/numbers';

export type BinSetName = 'broad' | 'chain';
export const BIN_SET_NAMES: readonly BinSetName[] = ['broad', 'chain'];

export interface Bin {
  name: string;
  min: number;
  max: number;
  /** Whether `max` itself is in the bin (else the next bin up starts there). */
  maxInclusive: boolean;
}

/** Bins are listed hard to easy (ascending pass rate). */
export const BIN_SETS: Readonly<Record<BinSetName, readonly Bin[]>> = {
  // Adjacent: each holds its lower edge, and the top one its upper edge too.
  broad: BROAD_BINS.map((b, i) => ({ name: b.name, min: b.range[0], max: b.range[1], maxInclusive: i === BROAD_BINS.length - 1 })),
  // With gaps: both edges inclusive.
  chain: (['hard', 'medium', 'easy'] as const).map((name) => ({
    name,
    min: PAPER_CHAIN_BINS[name][0],
    max: PAPER_CHAIN_BINS[name][1],
    maxInclusive: true,
  })),
};

/** Pass rates are k/M quotients: compare edges with a tolerance so 0.26 stored as 0.26000000001 lands right. */
const EPS = 1e-9;

export function binOf(p: number, set: BinSetName): string | null {
  for (const b of BIN_SETS[set]) {
    if (p < b.min - EPS) continue;
    if (p < b.max - EPS || (b.maxInclusive && p <= b.max + EPS)) return b.name;
  }
  return null;
}

export function binNames(set: BinSetName): string[] {
  return BIN_SETS[set].map((b) => b.name);
}

export function parseBinSet(v: string): BinSetName {
  if (!(BIN_SET_NAMES as readonly string[]).includes(v)) throw new Error(`--bins ${v}: choose one of ${BIN_SET_NAMES.join(', ')}.`);
  return v as BinSetName;
}

export interface Band {
  min: number;
  max: number;
}

/** The paper's filter, inclusive at both ends: 0.01 <= p <= 0.97 (with M = 32: 1 to 31 solved). */
export const DEFAULT_BAND: Readonly<Band> = FILTER_BAND;

export function inBand(p: number, band: Band): boolean {
  return p >= band.min - EPS && p <= band.max + EPS;
}

/** Counts per bin, in the set's order, plus the items in no bin. */
export interface BinHistogram {
  bins: { name: string; n: number }[];
  unbinned: number;
  total: number;
}

export function binHistogram(items: readonly { bin: string | null }[], set: BinSetName): BinHistogram {
  const counts = new Map(binNames(set).map((n) => [n, 0]));
  let unbinned = 0;
  for (const it of items) {
    if (it.bin === null || !counts.has(it.bin)) unbinned++;
    else counts.set(it.bin, (counts.get(it.bin) ?? 0) + 1);
  }
  return { bins: [...counts].map(([name, n]) => ({ name, n })), unbinned, total: items.length };
}

/** A text histogram for the terminal: one line per bin, bars scaled to the largest. */
export function formatBinHistogram(h: BinHistogram, set: BinSetName, title: string): string {
  const max = Math.max(1, ...h.bins.map((b) => b.n), h.unbinned);
  const line = (label: string, n: number) => `  ${label.padEnd(24)} ${String(n).padStart(6)} ${'#'.repeat(Math.round((n / max) * 40))}`;
  const lines = [`${title} (${h.total} records, ${set} bins):`];
  for (const b of BIN_SETS[set]) {
    const range = `${b.min.toFixed(2)}-${b.max.toFixed(2)}`;
    lines.push(line(`${b.name} ${range}`, h.bins.find((x) => x.name === b.name)?.n ?? 0));
  }
  lines.push(line('(no bin)', h.unbinned));
  return lines.join('\n');
}
