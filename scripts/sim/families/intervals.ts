/** Family: interval logic (normalise, filter, merge, then measure). */
import { Phrase, phrases, Scanner, tryParse, num, check } from '../phrase';
import { py, src, sentence } from '../pyfmt';
import type { Rng } from '../rng';
import { normalise, NO_BUGS, type Args, type Family } from './family';

type OutKind = 'list' | 'count' | 'covered' | 'longest' | 'gap';

export interface IntervalParams {
  /** Pairs may come reversed and must be read as [min, max]. */
  reversed: boolean;
  /** Drop intervals shorter than this; 0 keeps all. */
  minLen: number;
  /** Intervals that only touch (end == start) merge. */
  touch: boolean;
  out: OutKind;
}

const OUT_W: Record<OutKind, number> = { list: 0.3, count: 0.3, covered: 0.8, longest: 1, gap: 1.6 };
const REVERSED = new Phrase(' (a pair may come reversed: read it as [min, max])');
const MIN_LEN = new Phrase(', drop those shorter than {L}');
const TOUCH = phrases<'yes' | 'no'>({
  yes: ' (intervals that only touch count as overlapping)',
  no: ' (intervals that only touch stay separate)',
});
const OUTS = phrases<OutKind>({
  list: 'return the merged intervals in order',
  count: 'return how many merged intervals there are',
  covered: 'return the total length they cover',
  longest: 'return the length of the longest merged interval (0 if there is none)',
  gap: 'return the largest gap between consecutive merged intervals (0 if there are fewer than two)',
});

const OUT_LINE: Record<OutKind, string> = {
  list: '    return merged',
  count: '    return len(merged)',
  covered: '    return sum(b - a for a, b in merged)',
  longest: '    return max((b - a for a, b in merged), default=0)',
  gap: '    return max((merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)), default=0)',
};

export const intervals: Family<IntervalParams> = {
  id: 'intervals',
  blurb: 'merges intervals and measures the result',

  sample(rng: Rng): IntervalParams {
    return {
      reversed: rng.chance(0.5),
      minLen: rng.chance(0.5) ? rng.int(2, 4) : 0,
      touch: rng.chance(0.5),
      out: rng.pick<OutKind>(['list', 'count', 'covered', 'longest', 'gap']),
    };
  },

  difficulty(p) {
    const raw = (p.reversed ? 0.8 : 0) + (p.minLen > 0 ? 1 : 0) + (p.touch ? 0 : 0.6) + OUT_W[p.out];
    return normalise(raw, 0.3, 4);
  },

  code(p, bug = NO_BUGS) {
    const pair = p.reversed && !bug.has('swap') ? '(min(a, b), max(a, b))' : '(a, b)';
    const touchCmp = (bug.has('touch') ? !p.touch : p.touch) ? '<=' : '<';
    return src(
      'def f(intervals):',
      bug.has('sort') ? `    items = [${pair} for a, b in intervals]` : `    items = sorted(${pair} for a, b in intervals)`,
      p.minLen > 0 && `    items = [(a, b) for a, b in items if b - a ${bug.has('len') ? '>' : '>='} ${p.minLen}]`,
      '    merged = []',
      '    for a, b in items:',
      `        if merged and a ${touchCmp} merged[-1][1]:`,
      bug.has('extend') ? '            merged[-1][1] = b' : '            merged[-1][1] = max(merged[-1][1], b)',
      '        else:',
      '            merged.append([a, b])',
      OUT_LINE[p.out],
    );
  },

  bugs(p) {
    const out = ['touch', 'sort', 'extend'];
    if (p.reversed) out.push('swap');
    if (p.minLen > 0) out.push('len');
    return out;
  },

  message(p) {
    return sentence(
      'take the intervals [a, b] in the list' +
        (p.reversed ? REVERSED.write() : '') +
        (p.minLen > 0 ? MIN_LEN.write({ L: p.minLen }) : '') +
        ', then merge overlapping ones' +
        TOUCH[p.touch ? 'yes' : 'no'].write() +
        '; ' +
        OUTS[p.out].write() +
        '.',
    );
  },

  parse(message) {
    return tryParse(() => {
      const s = new Scanner(message);
      s.lit('take the intervals [a, b] in the list');
      const reversed = s.maybe(REVERSED) !== null;
      const lv = s.maybe(MIN_LEN);
      s.lit(', then merge overlapping ones');
      const [touch] = s.choose(TOUCH);
      s.lit('; ');
      const [out] = s.choose(OUTS);
      s.lit('.');
      s.done();
      const p: IntervalParams = { reversed, minLen: lv ? num(lv, 'L') : 0, touch: touch === 'yes', out };
      check(p.minLen >= 0, 'length');
      return p;
    });
  },

  edgeInputs(p, rng) {
    const one = (xs: Array<[number, number]>): Args => [py(xs)];
    const L = Math.max(p.minLen, 1);
    const flip = (xs: Array<[number, number]>): Array<[number, number]> =>
      p.reversed ? xs.map(([a, b], i) => (i % 2 === 0 ? [b, a] : [a, b])) : xs;
    return [
      one([]),
      one(
        flip([
          [1, 5],
          [5, 10],
          [12, 12 + L],
        ]),
      ),
      one(
        flip(
          rng.shuffle<[number, number]>([
            [0, 12],
            [2, 7],
            [14, 19],
            [22, 22 + L - 1],
          ]),
        ),
      ),
      one(
        flip([
          [5, 5 + L],
          [0, 4],
          [16, 18],
          [4, 5],
        ]),
      ),
    ];
  },

  randomInput(p, rng) {
    const n = rng.int(2, 6);
    const xs = Array.from({ length: n }, (): [number, number] => {
      const a = rng.int(0, 30);
      const b = a + rng.int(0, 8);
      return p.reversed && rng.chance(0.3) ? [b, a] : [a, b];
    });
    return [py(xs)];
  },
};
