import type { Instruction } from '../contracts/workflow-io';
import type { ChainBins, Level } from './numbers';

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
export function chainNext(
  s: ChainState,
  last: ChainResult | undefined,
  bins: ChainBins,
): { state: ChainState; instruction: Instruction; prevProblemId: number | null; level: Level } {
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
