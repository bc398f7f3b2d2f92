/** Family: sliding-window statistics over a list, with a stride and a summary. */
import { phrases, Phrase, Scanner, tryParse, num, check } from '../phrase';
import { py, src, sentence } from '../pyfmt';
import type { Rng } from '../rng';
import { normalise, NO_BUGS, type Args, type Bugs, type Family } from './family';

type StatKind = 'sum' | 'max' | 'distinct' | 'spread' | 'above';
type OutKind = 'list' | 'max' | 'argmax' | 'count';

export interface WindowParams {
  stat: StatKind;
  /** Windows start every `stride` positions. */
  stride: number;
  out: OutKind;
  /** Threshold for 'count'; 0 otherwise. */
  t: number;
}

const STAT_W: Record<StatKind, number> = { sum: 0, max: 0.4, distinct: 0.8, spread: 1, above: 1.5 };
const OUT_W: Record<OutKind, number> = { list: 0, max: 0.5, count: 1, argmax: 1.4 };

const STRIDE = phrases<'one' | 'many'>({
  one: ', moving it one position at a time',
  many: ', moving it {s} positions at a time',
});
const STATS = phrases<StatKind>({
  sum: 'its sum',
  max: 'its largest value',
  distinct: 'its number of distinct values',
  spread: 'its largest minus its smallest value',
  above: 'how many of its values exceed its first value',
});
const OUTS = phrases<OutKind>({
  list: 'return the list of these results',
  max: 'return the largest result, or None if there are no windows',
  argmax: 'return the start position of the first window with the largest result, or -1 if there are no windows',
  count: 'return how many results are greater than {t}',
});
const INTRO = new Phrase('slide a window of w consecutive values over xs');
const FULL = ' (only full windows, so none when w > len(xs)); for each window take ';

const STAT_EXPR: Record<StatKind, string> = {
  sum: 'sum(win)',
  max: 'max(win)',
  distinct: 'len(set(win))',
  spread: 'max(win) - min(win)',
  above: 'sum(1 for v in win if v > win[0])',
};

function outLines(p: WindowParams, bug: Bugs): string[] {
  switch (p.out) {
    case 'list':
      return ['    return results'];
    case 'max':
      return ['    if not results:', '        return None', '    return max(results)'];
    case 'argmax': {
      const idx = bug.has('last') ? 'len(results) - 1 - results[::-1].index(max(results))' : 'results.index(max(results))';
      return ['    if not results:', '        return -1', `    return ${idx}${bug.has('scale') ? '' : ` * ${p.stride}`}`];
    }
    case 'count':
      return [`    return sum(1 for r in results if r ${bug.has('cmp') ? '>=' : '>'} ${p.t})`];
  }
}

export const windows: Family<WindowParams> = {
  id: 'windows',
  blurb: 'computes statistics over sliding windows of a list',

  sample(rng: Rng): WindowParams {
    const out = rng.pick<OutKind>(['list', 'max', 'argmax', 'count']);
    const stat = rng.pick<StatKind>(['sum', 'max', 'distinct', 'spread', 'above']);
    // Thresholds on the scale of the statistic, or the count would be the same for every input.
    const t = { sum: rng.int(2, 12), max: rng.int(2, 9), spread: rng.int(1, 5), distinct: rng.int(1, 2), above: rng.int(0, 1) }[stat];
    return { stat, stride: rng.chance(0.5) ? 1 : rng.int(2, 3), out, t: out === 'count' ? t : 0 };
  },

  difficulty(p) {
    return normalise(STAT_W[p.stat] + (p.stride > 1 ? 1 : 0) + OUT_W[p.out], 0, 3.9);
  },

  code(p, bug = NO_BUGS) {
    const end = bug.has('end') ? 'len(xs) - w' : 'len(xs) - w + 1';
    const stride = bug.has('stride') ? 1 : p.stride;
    return src(
      'def f(xs, w):',
      '    results = []',
      stride === 1 ? `    for start in range(${end}):` : `    for start in range(0, ${end}, ${stride}):`,
      '        win = xs[start:start + w]',
      `        results.append(${STAT_EXPR[p.stat]})`,
      outLines(p, bug),
    );
  },

  bugs(p) {
    const out = ['end'];
    if (p.stride > 1) out.push('stride');
    if (p.out === 'argmax') out.push('last');
    if (p.out === 'argmax' && p.stride > 1) out.push('scale');
    if (p.out === 'count') out.push('cmp');
    return out;
  },

  message(p) {
    return sentence(
      INTRO.write() +
        (p.stride === 1 ? STRIDE.one.write() : STRIDE.many.write({ s: p.stride })) +
        FULL +
        STATS[p.stat].write() +
        '; ' +
        OUTS[p.out].write({ t: p.t }) +
        '.',
    );
  },

  parse(message) {
    return tryParse(() => {
      const s = new Scanner(message);
      s.lit(INTRO.write());
      const [sk, sv] = s.choose(STRIDE);
      s.lit(FULL);
      const [stat] = s.choose(STATS);
      s.lit('; ');
      const [out, ov] = s.choose(OUTS);
      s.lit('.');
      s.done();
      const p: WindowParams = { stat, stride: sk === 'one' ? 1 : num(sv, 's'), out, t: out === 'count' ? num(ov, 't') : 0 };
      check(p.stride >= 1, 'stride');
      return p;
    });
  },

  edgeInputs(p) {
    const inp = (xs: number[], w: number): Args => [py(xs), py(w)];
    return [
      inp([1, 2], 3),
      inp([4, 4, 1, 4], 4),
      inp([3, 1, 3, 1, 3, 1, 3], 1),
      inp([5, 2, 9, 2, 5, 9, 1, 0], 2),
      inp([1, 3, 2, 0, 4, 1, 12], 2),
      inp([0, 9, 9, 0, 5, 0, 7, 7, 1], 2),
      inp([p.t, p.t + 1, p.t - 1, p.t, p.t + 2], 1),
    ];
  },

  randomInput(_p, rng) {
    const xs = Array.from({ length: rng.int(3, 9) }, () => rng.int(-4, 12));
    return [py(xs), py(rng.int(1, 5))];
  },
};
