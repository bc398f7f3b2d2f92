import type { ChainBins, Instruction, Level } from '../contracts';

/** Where an explicit stepping-stone chain stands (carried through the turn loop). */
export interface ChainState {
  level: Level;
  /** The hard problem the medium and easy variants are made from. */
  anchorId: number | null;
  /** The medium problem, the easy variant's parent when there is one. */
  mediumId: number | null;
  done: boolean;
}

export const CHAIN_START: ChainState = { level: 'hard', anchorId: null, mediumId: null, done: false };

export type ChainResult = { problemId: number; valid: false } | { problemId: number; valid: true; passRate: number };

/**
 * Top-down chains (method.md): ask for a hard problem and keep it if valid and in the hard bin
 * (steering harder/easier until it is, within the turn budget); then a medium variant of it; then
 * an easy one. Returns the next state and what to ask the teacher next.
 */
export function chainNext(s: ChainState, last: ChainResult | undefined, bins: ChainBins):
  { state: ChainState; instruction: Instruction; prevProblemId: number | null; level: Level } {
  if (!last) return { state: s, instruction: 'chain_hard', prevProblemId: null, level: 'hard' };
  if (s.level === 'hard') {
    if (!last.valid) return { state: s, instruction: 'fix', prevProblemId: last.problemId, level: 'hard' };
    const [lo, hi] = bins.hard;
    if (last.passRate > hi) return { state: s, instruction: 'chain_harder', prevProblemId: last.problemId, level: 'hard' };
    if (last.passRate < lo) return { state: s, instruction: 'chain_easier', prevProblemId: last.problemId, level: 'hard' };
    const st: ChainState = { ...s, level: 'medium', anchorId: last.problemId };
    return { state: st, instruction: 'chain_medium', prevProblemId: last.problemId, level: 'medium' };
  }
  if (s.level === 'medium') {
    // An invalid variant is retried (with its feedback); a valid one of any pass rate is the medium stone.
    if (!last.valid) return { state: s, instruction: 'fix', prevProblemId: last.problemId, level: 'medium' };
    const st: ChainState = { ...s, level: 'easy', mediumId: last.problemId };
    return { state: st, instruction: 'chain_easy', prevProblemId: last.problemId, level: 'easy' };
  }
  if (!last.valid) return { state: s, instruction: 'fix', prevProblemId: last.problemId, level: 'easy' };
  return { state: { ...s, done: true }, instruction: 'chain_easy', prevProblemId: null, level: 'easy' };
}

/** Deterministic weighted choice of a seed's environment from its id (FNV-1a; no randomness in workflows). */
export function pickWeighted<K extends string>(key: string, weights: Partial<Record<K, number>>): K {
  const entries = (Object.entries(weights) as [K, number][]).filter(([, w]) => w > 0).sort(([a], [b]) => (a < b ? -1 : 1));
  if (entries.length === 0) throw new Error('no environment has a positive weight');
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  // murmur3's finalizer: FNV alone leaves the high bits of short, similar ids poorly mixed.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  const total = entries.reduce((t, [, w]) => t + w, 0);
  let x = (h / 2 ** 32) * total;
  for (const [k, w] of entries) {
    if (x < w) return k;
    x -= w;
  }
  return entries[entries.length - 1]![0];
}
