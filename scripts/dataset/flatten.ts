/**
 * Flattening (method.md: "a plain filter leaves the set skewed to easy problems; offer flattening
 * by bins"): deterministic downsampling of the binned records to a target histogram.
 */
import { createHash } from 'node:crypto';
import { binNames, type BinSetName } from './bins';

/** Relative weights per bin; a bin left out gets 0 (none of its records are kept). */
export type FlattenTarget = Record<string, number>;

export interface FlattenResult<T> {
  kept: T[];
  /** Records kept per bin. */
  counts: Record<string, number>;
  warnings: string[];
}

/** Parses `hard=1,medium=2,easy=1` into weights, checking names against the bin set. */
export function parseFlattenTarget(spec: string, set: BinSetName): FlattenTarget {
  const names = binNames(set);
  const out: FlattenTarget = {};
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z-]+)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new Error(`--flatten-target ${spec}: write bin=weight pairs, e.g. ${names.map((n) => `${n}=1`).join(',')}.`);
    const [, name, w] = m as unknown as [string, string, string];
    if (!names.includes(name)) throw new Error(`--flatten-target: no bin "${name}" in the ${set} bins (${names.join(', ')}).`);
    out[name] = Number(w);
  }
  if (!Object.values(out).some((w) => w > 0)) throw new Error(`--flatten-target ${spec}: give at least one bin a weight above 0.`);
  return out;
}

/** The order a record takes in its bin's shuffle: a hash of the sampling seed and the record id. */
export function sampleKey(seed: string, id: number): string {
  return createHash('sha256').update(`${seed}:${id}`).digest('hex');
}

/**
 * Keeps, per bin, a share of the records proportional to the target weights (equal by default),
 * as many as the scarcest bin allows. Within a bin the records kept are those with the smallest
 * `sampleKey(seed, id)`: the choice depends only on the seed and the ids, never on query order.
 * Records in no bin are dropped. A bin with weight > 0 but no records is left out of the target
 * (with a warning) rather than emptying the whole set. The result is in id order.
 */
export function flattenByBins<T extends { id: number; bin: string | null }>(
  items: readonly T[],
  set: BinSetName,
  seed: string,
  target?: FlattenTarget,
): FlattenResult<T> {
  const names = binNames(set);
  const weights = Object.fromEntries(names.map((n) => [n, target ? (target[n] ?? 0) : 1]));
  const byBin = new Map<string, T[]>(names.map((n) => [n, []]));
  for (const it of items) if (it.bin !== null) byBin.get(it.bin)?.push(it);
  const warnings: string[] = [];
  let scale = Infinity;
  for (const n of names) {
    const w = weights[n] ?? 0;
    if (w <= 0) continue;
    const avail = byBin.get(n)?.length ?? 0;
    if (avail === 0) {
      warnings.push(`bin ${n} has no records: flattened over the other bins`);
      continue;
    }
    scale = Math.min(scale, avail / w);
  }
  const counts: Record<string, number> = {};
  const kept: T[] = [];
  for (const n of names) {
    const pool = byBin.get(n) ?? [];
    const w = weights[n] ?? 0;
    const k = scale === Infinity || w <= 0 ? 0 : Math.min(pool.length, Math.floor(scale * w + 1e-9));
    counts[n] = k;
    const ranked = pool.map((it) => ({ it, key: sampleKey(seed, it.id) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const r of ranked.slice(0, k)) kept.push(r.it);
  }
  kept.sort((a, b) => a.id - b.id);
  return { kept, counts, warnings };
}
