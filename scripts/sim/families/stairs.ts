/** Family: a small counting DP (ways to climb stairs with constraints). */
import { Phrase, Scanner, tryParse, num, list, check } from '../phrase';
import { py, src, sentence } from '../pyfmt';
import type { Rng } from '../rng';
import { normalise, NO_BUGS, type Args, type Bugs, type Family } from './family';

export interface StairsParams {
  /** Allowed move sizes, ascending. */
  steps: number[];
  /** Never land on a positive multiple of this; 0 = no restriction. */
  avoid: number;
  /** The same move size may not be used twice in a row. */
  noRepeat: boolean;
  /** Answer modulo this; 0 = exact count. */
  mod: number;
}

const INTRO = new Phrase('count the ways to climb from step 0 to exactly step n with moves of {steps:or} steps');
const AVOID = new Phrase(', never landing on a positive multiple of {b}');
const NO_REPEAT = new Phrase(', never making the same move twice in a row');
const MOD = new Phrase(' modulo {m}');

function plainCode(p: StairsParams, bug: Bugs): string {
  const last = bug.has('range') ? 'n' : 'n + 1';
  return src(
    'def f(n):',
    '    ways = [0] * (n + 1)',
    '    ways[0] = 1',
    `    for i in range(1, ${last}):`,
    p.avoid > 0 && [`        if i % ${bug.has('avoid') ? p.avoid + 1 : p.avoid} == 0:`, '            continue'],
    `        for step in (${p.steps.join(', ')}):`,
    `            if step ${bug.has('cmp') ? '<' : '<='} i:`,
    '                ways[i] += ways[i - step]',
    p.mod > 0 && !bug.has('mod') && `        ways[i] %= ${p.mod}`,
    '    return ways[n]',
  );
}

/** With no repeats the state needs the last move: last[i][j] = ways to stand on i arriving by move j. */
function noRepeatCode(p: StairsParams, bug: Bugs): string {
  const last = bug.has('range') ? 'n' : 'n + 1';
  const mod = p.mod > 0 && !bug.has('mod') ? ` % ${p.mod}` : '';
  return src(
    'def f(n):',
    `    steps = (${p.steps.join(', ')},)`,
    '    total = [0] * (n + 1)',
    '    last = [[0] * len(steps) for _ in range(n + 1)]',
    '    total[0] = 1',
    `    for i in range(1, ${last}):`,
    p.avoid > 0 && [`        if i % ${bug.has('avoid') ? p.avoid + 1 : p.avoid} == 0:`, '            continue'],
    '        for j, step in enumerate(steps):',
    `            if step ${bug.has('cmp') ? '<' : '<='} i:`,
    bug.has('repeat')
      ? `                last[i][j] = total[i - step]${mod}`
      : mod
        ? `                last[i][j] = (total[i - step] - last[i - step][j])${mod}`
        : '                last[i][j] = total[i - step] - last[i - step][j]',
    `        total[i] = sum(last[i])${mod}`,
    '    return total[n]',
  );
}

export const stairs: Family<StairsParams> = {
  id: 'stairs',
  blurb: 'counts the ways to climb stairs under constraints with dynamic programming',

  sample(rng: Rng): StairsParams {
    const steps = rng.sample([1, 2, 3, 4, 5], rng.int(2, 4)).sort((a, b) => a - b);
    return {
      steps,
      avoid: rng.chance(0.5) ? rng.int(3, 6) : 0,
      noRepeat: rng.chance(0.45),
      mod: rng.chance(0.5) ? rng.pick([97, 1000, 1009]) : 0,
    };
  },

  difficulty(p) {
    const raw =
      (p.steps.length - 2) * 0.5 +
      (Math.max(...p.steps) >= 4 ? 0.3 : 0) +
      (p.avoid > 0 ? 1.3 : 0) +
      (p.noRepeat ? 2 : 0) +
      (p.mod > 0 ? 0.7 : 0);
    return normalise(raw, 0, 5.3);
  },

  code(p, bug = NO_BUGS) {
    return p.noRepeat ? noRepeatCode(p, bug) : plainCode(p, bug);
  },

  bugs(p) {
    const out = ['range', 'cmp'];
    if (p.avoid > 0) out.push('avoid');
    if (p.mod > 0) out.push('mod');
    if (p.noRepeat) out.push('repeat');
    return out;
  },

  message(p) {
    return sentence(
      INTRO.write({ steps: p.steps }) +
        (p.avoid > 0 ? AVOID.write({ b: p.avoid }) : '') +
        (p.noRepeat ? NO_REPEAT.write() : '') +
        '; return the count' +
        (p.mod > 0 ? MOD.write({ m: p.mod }) : '') +
        '.',
    );
  },

  parse(message) {
    return tryParse(() => {
      const s = new Scanner(message);
      const steps = list(s.maybe(INTRO), 'steps');
      const av = s.maybe(AVOID);
      const noRepeat = s.maybe(NO_REPEAT) !== null;
      s.lit('; return the count');
      const mv = s.maybe(MOD);
      s.lit('.');
      s.done();
      const p: StairsParams = { steps, avoid: av ? num(av, 'b') : 0, noRepeat, mod: mv ? num(mv, 'm') : 0 };
      check(steps.every((x) => x > 0) && p.avoid >= 0 && p.mod >= 0, 'ranges');
      return p;
    });
  },

  edgeInputs(p) {
    const one = (n: number): Args => [py(n)];
    const out = [one(0), one(Math.min(...p.steps)), one(30)];
    if (p.avoid > 0) out.push(one(p.avoid * 2));
    return out;
  },

  randomInput(_p, rng) {
    return [py(rng.int(1, 24))];
  },
};
