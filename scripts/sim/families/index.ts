/** The family registry: which family a seed gets, and reading a hint back into a family. */
import { hash32 } from '../rng';
import { brackets } from './brackets';
import { digits } from './digits';
import { groupAggregate } from './groupAggregate';
import { intervals } from './intervals';
import { listPipeline } from './listPipeline';
import { pickSum } from './pickSum';
import { stairs } from './stairs';
import { stringSteps } from './stringSteps';
import type { AnyFamily } from './family';
import { windows } from './windows';
import { wordCounts } from './wordCounts';

export type { AnyFamily, Args, Family } from './family';
export { paramsForDifficulty, writeInputs } from './family';

/** All families, in a fixed order (the seed hash indexes into it). */
export const FAMILIES: readonly AnyFamily[] = [
  listPipeline,
  stringSteps,
  groupAggregate,
  stairs,
  pickSum,
  intervals,
  digits,
  windows,
  brackets,
  wordCounts,
];

/**
 * The family for a seed snippet: a hash of its text, so every turn of a seed (and every rerun)
 * stays in the same family, as a teacher "incorporating the core logic" of the seed would.
 */
export function familyForSeed(snippet: string): AnyFamily {
  return FAMILIES[hash32('family', snippet.trim()) % FAMILIES.length] as AnyFamily;
}

export function familyById(id: string): AnyFamily | undefined {
  return FAMILIES.find((f) => f.id === id);
}

/** A hint read back: the family whose template it follows and its parameters. */
export interface ParsedHint {
  family: AnyFamily;
  params: unknown;
}

/** Reads a hint; null when no family's template matches (a foreign or damaged message). */
export function parseHint(message: string): ParsedHint | null {
  for (const family of FAMILIES) {
    const params = family.parse(message);
    if (params !== null) return { family, params };
  }
  return null;
}
