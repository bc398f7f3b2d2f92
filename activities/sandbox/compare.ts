import type { InputOutcome, InputVerdict } from './contract';

/**
 * Host-side grading: an input passes only when it ran ('ok') and its canonical output equals
 * the expected canonical string exactly. Expected values never enter the sandbox, so nothing the
 * code does in there can forge a pass. `pass` needs at least one input and all of them ok.
 */
export function compareOutcomes(outcomes: InputOutcome[], expected: string[]): { verdicts: InputVerdict[]; passed: number; pass: boolean } {
  if (outcomes.length !== expected.length) {
    throw new RangeError(`compareOutcomes: ${outcomes.length} outcomes for ${expected.length} expected values`);
  }
  const verdicts = outcomes.map((o, i): InputVerdict => {
    if (o.status !== 'ok') return o.status;
    return typeof o.out === 'string' && o.out === expected[i] ? 'ok' : 'wrong';
  });
  const passed = verdicts.filter((v) => v === 'ok').length;
  return { verdicts, passed, pass: verdicts.length > 0 && passed === verdicts.length };
}
