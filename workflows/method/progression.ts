import type { Instruction, SeedOutcome, TurnSummary } from '../contracts/workflow-io';
import { HARDER_ABOVE } from './numbers';

/** The previous turn as the progression rule sees it. */
export type PreviousTurn = { valid: false } | { valid: true; passRate: number };

/**
 * The paper's progression rule: p > HARDER_ABOVE -> harder (aim for TARGET_BAND); p = 0 -> easier;
 * p = 1 -> harder and the tests are probably too weak; otherwise keep the core task and vary it.
 * An invalid problem goes back to the teacher with its reason ('fix').
 */
export function nextInstruction(prev: PreviousTurn | undefined): Instruction {
  if (!prev) return 'initial';
  if (!prev.valid) return 'fix';
  if (prev.passRate >= 1) return 'harder_weak_tests';
  if (prev.passRate > HARDER_ABOVE) return 'harder';
  if (prev.passRate <= 0) return 'easier';
  return 'keep';
}

/** in_band if any valid problem landed strictly between 0 and 1; history gets numbers only. */
export function seedOutcome(turns: TurnSummary[]): SeedOutcome {
  if (turns.every((t) => !t.valid)) return 'all_invalid';
  return turns.some((t) => t.passRate !== null && t.passRate > 0 && t.passRate < 1) ? 'in_band' : 'out_of_band';
}
