/** Family: a selection DP (best total of elements picked with a minimum gap). */
import { Phrase, Scanner, tryParse, num, check } from '../phrase';
import { py, src, sentence } from '../pyfmt';
import type { Rng } from '../rng';
import { normalise, NO_BUGS, type Args, type Family } from './family';

export interface PickParams {
  /** Picked positions must differ by more than this. */
  gap: number;
  /** At most this many picks; 0 = unlimited. */
  cap: number;
  /** A non-empty list needs at least one pick (matters when every value is <= 0). */
  nonEmpty: boolean;
  /** Values at even positions (from 0) count double. */
  doubleEven: boolean;
}

const INTRO = new Phrase('pick elements of xs so that any two picked positions differ by more than {g}');
const CAP = new Phrase(', with at most {c} picks');
const NON_EMPTY = new Phrase(', and at least one pick when xs is not empty');
const DOUBLE = new Phrase('; a value at an even position (counting from 0) counts double');
const OUTRO = '; return the largest possible total (0 when nothing is picked).';

export const pickSum: Family<PickParams> = {
  id: 'pick_sum',
  blurb: 'chooses list elements under a spacing rule to maximise a total (dynamic programming)',

  sample(rng: Rng): PickParams {
    return {
      gap: rng.int(1, 3),
      cap: rng.chance(0.5) ? rng.int(2, 3) : 0,
      nonEmpty: rng.chance(0.5),
      doubleEven: rng.chance(0.5),
    };
  },

  difficulty(p) {
    const raw = [0, 0, 0.6, 0.9][p.gap] ?? 0.9;
    return normalise(raw + (p.cap > 0 ? 1.5 : 0) + (p.nonEmpty ? 1.2 : 0) + (p.doubleEven ? 0.8 : 0), 0, 4.4);
  },

  code(p, bug = NO_BUGS) {
    const g = bug.has('gap_less') ? p.gap - 1 : bug.has('gap_more') ? p.gap + 1 : p.gap;
    const cap = bug.has('cap') ? p.cap + 1 : p.cap;
    const prev = g > 0 ? `max(0, i - ${g})` : 'i';
    const parity = bug.has('parity') ? 1 : 0;
    return src(
      'def f(xs):',
      p.doubleEven ? `    vals = [x * 2 if i % 2 == ${parity} else x for i, x in enumerate(xs)]` : '    vals = list(xs)',
      p.nonEmpty && !bug.has('empty') && ['    if vals and max(vals) <= 0:', '        return max(vals)'],
      '    n = len(vals)',
      cap > 0
        ? [
            `    best = [[0] * (n + 1) for _ in range(${cap + 1})]`,
            `    for k in range(1, ${cap + 1}):`,
            '        for i, v in enumerate(vals):',
            `            best[k][i + 1] = max(best[k][i], v + best[k - 1][${prev}])`,
            `    return best[${cap}][n]`,
          ]
        : [
            '    best = [0] * (n + 1)',
            '    for i, v in enumerate(vals):',
            `        best[i + 1] = max(best[i], v + best[${prev}])`,
            '    return best[n]',
          ],
    );
  },

  bugs(p) {
    const out = ['gap_less', 'gap_more'];
    if (p.cap > 0) out.push('cap');
    if (p.nonEmpty) out.push('empty');
    if (p.doubleEven) out.push('parity');
    return out;
  },

  message(p) {
    return sentence(
      INTRO.write({ g: p.gap }) +
        (p.cap > 0 ? CAP.write({ c: p.cap }) : '') +
        (p.nonEmpty ? NON_EMPTY.write() : '') +
        (p.doubleEven ? DOUBLE.write() : '') +
        OUTRO,
    );
  },

  parse(message) {
    return tryParse(() => {
      const s = new Scanner(message);
      const gap = num(s.maybe(INTRO), 'g');
      const cv = s.maybe(CAP);
      const nonEmpty = s.maybe(NON_EMPTY) !== null;
      const doubleEven = s.maybe(DOUBLE) !== null;
      s.lit(OUTRO);
      s.done();
      const p: PickParams = { gap, cap: cv ? num(cv, 'c') : 0, nonEmpty, doubleEven };
      check(gap >= 1 && p.cap >= 0, 'ranges');
      return p;
    });
  },

  edgeInputs() {
    const one = (xs: number[]): Args => [py(xs)];
    return [
      one([]),
      one([-4, -1, -7]),
      one([5, 1, 5, 1, 5, 1, 5]),
      one([2, 9, 3, 9, 4]),
      one([0, -2, 8]),
      one([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]),
    ];
  },

  randomInput(_p, rng) {
    return [py(Array.from({ length: rng.int(2, 9) }, () => rng.int(-6, 12)))];
  },
};
