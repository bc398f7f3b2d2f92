import { CHAIN_START, chainNext } from '../../workflows/method/chain';
import { pickWeighted } from '../../workflows/env-mix';
import { PAPER_CHAIN_BINS, parseEnvSpec } from '../../workflows/contracts';

describe('explicit stepping-stone chains', () => {
  const step = (s: typeof CHAIN_START, last: Parameters<typeof chainNext>[1]) => chainNext(s, last, PAPER_CHAIN_BINS);

  it('asks for hard, steers into the hard bin, then medium and easy variants', () => {
    let r = step(CHAIN_START, undefined);
    expect(r).toMatchObject({ instruction: 'chain_hard', level: 'hard', prevProblemId: null });
    r = step(r.state, { problemId: 1, valid: true, passRate: 0.5 });
    expect(r).toMatchObject({ instruction: 'chain_harder', level: 'hard', prevProblemId: 1 });
    r = step(r.state, { problemId: 2, valid: true, passRate: 0 });
    expect(r).toMatchObject({ instruction: 'chain_easier', level: 'hard', prevProblemId: 2 });
    r = step(r.state, { problemId: 3, valid: false });
    expect(r).toMatchObject({ instruction: 'fix', level: 'hard', prevProblemId: 3 });
    r = step(r.state, { problemId: 4, valid: true, passRate: 0.125 });
    expect(r).toMatchObject({ instruction: 'chain_medium', level: 'medium', prevProblemId: 4 });
    expect(r.state.anchorId).toBe(4);
    r = step(r.state, { problemId: 5, valid: true, passRate: 0.5 });
    expect(r).toMatchObject({ instruction: 'chain_easy', level: 'easy', prevProblemId: 5 });
    r = step(r.state, { problemId: 6, valid: true, passRate: 0.85 });
    expect(r.state.done).toBe(true);
  });
});

describe('environment mixes', () => {
  it('parses names and weights, and names the bad part', () => {
    expect(parseEnvSpec('induction')).toEqual({ env: 'induction' });
    expect(parseEnvSpec('induction=2,deduction')).toEqual({ env: 'induction', weights: { induction: 2, deduction: 1 } });
    expect(() => parseEnvSpec('induction,poetry')).toThrow(/unknown environment "poetry"/);
    expect(() => parseEnvSpec('induction=0,deduction')).toThrow(/weight of induction must be a number > 0/);
  });

  it('assigns each seed one environment, deterministically, in proportion to the weights', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `s${i}`);
    const picks = ids.map((id) => pickWeighted(id, { induction: 3, deduction: 1 }));
    expect(ids.map((id) => pickWeighted(id, { induction: 3, deduction: 1 }))).toEqual(picks);
    const share = picks.filter((p) => p === 'induction').length / ids.length;
    expect(share).toBeGreaterThan(0.7);
    expect(share).toBeLessThan(0.8);
  });
});
