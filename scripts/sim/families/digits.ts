/** Family: digit arithmetic in a base, optionally repeated until a single digit. */
import { Phrase, phrases, Scanner, tryParse, num, check } from '../phrase';
import { py, src, sentence } from '../pyfmt';
import type { Rng } from '../rng';
import { normalise, NO_BUGS, type Args, type Bugs, type Family } from './family';

type OpKind = 'sum' | 'count' | 'product' | 'squares' | 'alt';
type RepeatKind = 'once' | 'value' | 'rounds';

export interface DigitParams {
  base: number;
  op: OpKind;
  /** The digit counted by 'count'; 0 otherwise (also a valid digit, so it is always stated). */
  d: number;
  /** Repeating only with ops that shrink every number >= base, so the loop always ends. */
  repeat: RepeatKind;
  /** Negate the answer for negative n. */
  sign: boolean;
}

const OP_W: Record<OpKind, number> = { sum: 0, count: 0.5, product: 0.8, squares: 1, alt: 1.5 };
const REPEAT_W: Record<RepeatKind, number> = { once: 0, value: 1.2, rounds: 1.6 };

const BASES = phrases<'ten' | 'other'>({
  ten: 'take the decimal digits of |n|',
  other: 'take the digits of |n| in base {b}',
});
const OPS = phrases<OpKind>({
  sum: 'add them up',
  count: 'count how many equal {d}',
  product: 'multiply the non-zero ones (1 if there are none)',
  squares: 'add up their squares',
  alt: 'add and subtract them alternately, starting with a plus on the last digit',
});
const REPEAT = new Phrase(', and repeat that on the result while it is at least {b}');
const RETURNS = phrases<'result' | 'rounds'>({
  result: '; return the result',
  rounds: '; return how many rounds ran',
});
const SIGN = new Phrase(', negated if n is negative');

function opLines(p: DigitParams, bug: Bugs): string[] {
  const base = bug.has('base') ? (p.base === 10 ? 9 : 10) : p.base;
  const init = p.op === 'product' ? 1 : 0;
  const body: Record<OpKind, string[]> = {
    sum: ['            total += digit'],
    count: [`            if digit == ${p.d}:`, '                total += 1'],
    product: bug.has('zero') ? ['            total *= digit'] : ['            if digit:', '                total *= digit'],
    squares: ['            total += digit * digit'],
    alt: ['            total += sign * digit', '            sign = -sign'],
  };
  return [
    '    def step(v):',
    `        total = ${init}`,
    p.op === 'alt' && `        sign = ${bug.has('alt') ? -1 : 1}`,
    '        while v > 0:',
    `            digit = v % ${base}`,
    ...body[p.op],
    `            v //= ${base}`,
    '        return total',
  ].filter((l): l is string => typeof l === 'string');
}

export const digits: Family<DigitParams> = {
  id: 'digits',
  blurb: 'does arithmetic on the digits of a number in some base',

  sample(rng: Rng): DigitParams {
    const base = rng.chance(0.4) ? 10 : rng.int(2, 9);
    const op = rng.pick<OpKind>(['sum', 'count', 'product', 'squares', 'alt']);
    const canRepeat = op === 'sum' || op === 'product';
    return {
      base,
      op,
      d: op === 'count' ? rng.int(0, base - 1) : 0,
      repeat: canRepeat ? rng.pick<RepeatKind>(['once', 'value', 'rounds']) : 'once',
      sign: rng.chance(0.5),
    };
  },

  difficulty(p) {
    const raw = (p.base === 10 ? 0 : 1) + OP_W[p.op] + REPEAT_W[p.repeat] + (p.sign ? 0.8 : 0);
    return normalise(raw, 0, 4.2);
  },

  code(p, bug = NO_BUGS) {
    const sign = p.sign && !bug.has('sign');
    const result = p.repeat === 'rounds' ? 'rounds' : 'v';
    const main =
      p.repeat === 'once'
        ? ['    v = step(abs(n))']
        : [
            '    v = abs(n)',
            p.repeat === 'rounds' ? `    rounds = ${bug.has('rounds') ? 1 : 0}` : null,
            bug.has('once') ? `    if v >= ${p.base}:` : `    while v >= ${p.base}:`,
            '        v = step(v)',
            p.repeat === 'rounds' ? '        rounds += 1' : null,
          ].filter((l): l is string => l !== null);
    return src('def f(n):', opLines(p, bug), main, sign ? `    return -${result} if n < 0 else ${result}` : `    return ${result}`);
  },

  bugs(p) {
    // A wrong base inside a repeat loop could spin forever on a single digit; keep it to one pass.
    const out = p.repeat === 'once' ? ['base'] : [];
    if (p.op === 'product') out.push('zero');
    if (p.op === 'alt') out.push('alt');
    if (p.repeat === 'rounds') out.push('rounds');
    if (p.repeat !== 'once') out.push('once');
    if (p.sign) out.push('sign');
    return out;
  },

  message(p) {
    return sentence(
      (p.base === 10 ? BASES.ten.write() : BASES.other.write({ b: p.base })) +
        ', ' +
        OPS[p.op].write({ d: p.d }) +
        (p.repeat !== 'once' ? REPEAT.write({ b: p.base }) : '') +
        RETURNS[p.repeat === 'rounds' ? 'rounds' : 'result'].write() +
        (p.sign ? SIGN.write() : '') +
        '.',
    );
  },

  parse(message) {
    return tryParse(() => {
      const s = new Scanner(message);
      const [bk, bv] = s.choose(BASES);
      const base = bk === 'ten' ? 10 : num(bv, 'b');
      s.lit(', ');
      const [op, ov] = s.choose(OPS);
      const rv = s.maybe(REPEAT);
      const [ret] = s.choose(RETURNS);
      const sign = s.maybe(SIGN) !== null;
      s.lit('.');
      s.done();
      const repeat: RepeatKind = ret === 'rounds' ? 'rounds' : rv ? 'value' : 'once';
      check(base >= 2 && (rv === null || num(rv, 'b') === base), 'base');
      check(ret !== 'rounds' || rv !== null, 'rounds need a repeat');
      check(repeat === 'once' || op === 'sum' || op === 'product', 'repeat terminates');
      return { base, op, d: op === 'count' ? num(ov, 'd') : 0, repeat, sign };
    });
  },

  edgeInputs(p) {
    const one = (n: number): Args => [py(n)];
    const out = [one(0), one(p.base - 1), one(p.base), one(987654)];
    if (p.sign) out.push(one(-(p.base * p.base + 3)));
    return out;
  },

  randomInput(p, rng) {
    const n = rng.int(1, 99999);
    return [py(p.sign && rng.chance(0.3) ? -n : n)];
  },
};
