import { nextInstruction } from '../../workflows/method/progression';
import { seedOutcome } from '../../workflows/method/progression';

describe('progression rule (method.md step 4)', () => {
  it.each([
    [undefined, 'initial'],
    [{ valid: false as const }, 'fix'],
    [{ valid: true as const, passRate: 1 }, 'harder_weak_tests'],
    [{ valid: true as const, passRate: 0.66 }, 'harder'],
    [{ valid: true as const, passRate: 0.65 }, 'keep'],
    [{ valid: true as const, passRate: 0.35 }, 'keep'],
    [{ valid: true as const, passRate: 0.01 }, 'keep'],
    [{ valid: true as const, passRate: 0 }, 'easier'],
  ])('%j -> %s', (prev, want) => {
    expect(nextInstruction(prev)).toBe(want);
  });

  it('classifies a seed by its turns', () => {
    expect(seedOutcome([{ turn: 1, problemId: 1, valid: false, passRate: null }])).toBe('all_invalid');
    expect(seedOutcome([{ turn: 1, problemId: 1, valid: true, passRate: 1 }])).toBe('out_of_band');
    expect(
      seedOutcome([
        { turn: 1, problemId: 1, valid: true, passRate: 1 },
        { turn: 2, problemId: 2, valid: true, passRate: 0.5 },
      ]),
    ).toBe('in_band');
  });
});
