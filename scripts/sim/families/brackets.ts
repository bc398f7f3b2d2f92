/** Family: bracket matching with a stack (types, quoted spans, different reports). */
import { Phrase, phrases, Scanner, tryParse } from '../phrase';
import { py, src, sentence } from '../pyfmt';
import type { Rng } from '../rng';
import { normalise, NO_BUGS, type Args, type Family } from './family';

type Kinds = 'round' | 'square' | 'curly';
type OutKind = 'bool' | 'pairs' | 'depth' | 'first_bad';

export interface BracketParams {
  /** Which bracket types count: round only, round+square, or all three. */
  kinds: Kinds;
  /** Characters between single quotes are ignored. */
  quotes: boolean;
  out: OutKind;
}

const KINDS_W: Record<Kinds, number> = { round: 0, square: 0.6, curly: 1 };
const OUT_W: Record<OutKind, number> = { bool: 0, pairs: 0.6, depth: 0.8, first_bad: 1.6 };
const OPEN: Record<Kinds, string> = { round: '(', square: '([', curly: '([{' };
const PAIRS: Record<Kinds, string> = {
  round: "{')': '('}",
  square: "{')': '(', ']': '['}",
  curly: "{')': '(', ']': '[', '}': '{'}",
};

const KIND_WORDS = phrases<Kinds>({
  round: 'round brackets',
  square: 'round and square brackets',
  curly: 'round, square and curly brackets',
});
const QUOTES = new Phrase(', as is anything between a pair of single quotes');
const OUTS = phrases<OutKind>({
  bool: 'return True if every bracket is matched and properly nested, else False',
  pairs: 'return the number of matched pairs, or -1 if the brackets are not balanced',
  depth: 'return the maximum nesting depth, or -1 if the brackets are not balanced',
  first_bad: 'return the position of the first closing bracket that does not match, else len(s) if a bracket is left open, else -1',
});

/** What each report returns on a bad closer, on leftovers, and when all is well. */
const RETURNS: Record<OutKind, [string, string, string]> = {
  bool: ['False', 'False', 'True'],
  pairs: ['-1', '-1', 'matched'],
  depth: ['-1', '-1', 'depth'],
  first_bad: ['i', 'len(s)', '-1'],
};

export const brackets: Family<BracketParams> = {
  id: 'brackets',
  blurb: 'checks bracket matching in a string with a stack',

  sample(rng: Rng): BracketParams {
    return {
      kinds: rng.pick<Kinds>(['round', 'square', 'curly']),
      quotes: rng.chance(0.5),
      out: rng.pick<OutKind>(['bool', 'pairs', 'depth', 'first_bad']),
    };
  },

  difficulty(p) {
    return normalise(KINDS_W[p.kinds] + (p.quotes ? 1.3 : 0) + OUT_W[p.out], 0, 3.9);
  },

  code(p, bug = NO_BUGS) {
    const [bad, left, ok] = RETURNS[p.out];
    const quotes = p.quotes && !bug.has('quotes');
    const badRet = bug.has('pos') && p.out === 'first_bad' ? 'i + 1' : bad;
    return src(
      'def f(s):',
      `    pairs = ${PAIRS[p.kinds]}`,
      '    stack = []',
      p.out === 'depth' && '    depth = 0',
      p.out === 'pairs' && '    matched = 0',
      quotes && '    quoted = False',
      '    for i, c in enumerate(s):',
      quotes && [
        '        if c == "\'":',
        '            quoted = not quoted',
        '            continue',
        '        if quoted:',
        '            continue',
      ],
      `        if c in ${py(OPEN[p.kinds])}:`,
      '            stack.append(c)',
      p.out === 'depth' && `            depth = max(depth, len(stack)${bug.has('depth') ? ' - 1' : ''})`,
      '        elif c in pairs:',
      bug.has('type') ? '            if not stack:' : '            if not stack or stack[-1] != pairs[c]:',
      `                return ${badRet}`,
      '            stack.pop()',
      p.out === 'pairs' && '            matched += 1',
      !bug.has('left') && ['    if stack:', `        return ${left}`],
      `    return ${ok}`,
    );
  },

  bugs(p) {
    const out = ['left'];
    if (p.kinds !== 'round') out.push('type');
    if (p.quotes) out.push('quotes');
    if (p.out === 'depth') out.push('depth');
    if (p.out === 'first_bad') out.push('pos');
    return out;
  },

  message(p) {
    return sentence(
      'scan s, matching ' +
        KIND_WORDS[p.kinds].write() +
        ' (other characters are ignored' +
        (p.quotes ? QUOTES.write() : '') +
        '); ' +
        OUTS[p.out].write() +
        '.',
    );
  },

  parse(message) {
    return tryParse(() => {
      const s = new Scanner(message);
      s.lit('scan s, matching ');
      const [kinds] = s.choose(KIND_WORDS);
      s.lit(' (other characters are ignored');
      const quotes = s.maybe(QUOTES) !== null;
      s.lit('); ');
      const [out] = s.choose(OUTS);
      s.lit('.');
      s.done();
      return { kinds, quotes, out };
    });
  },

  edgeInputs(p) {
    const one = (s: string): Args => [py(s)];
    const out = [one(''), one(')('), one('(()'), one('a(b)c((d))')];
    if (p.kinds !== 'round') out.push(one('([)]'), one('[(])'));
    if (p.quotes) out.push(one("x'('y(z)"), one("(')')"));
    return out;
  },

  randomInput(p, rng) {
    const open = OPEN[p.kinds];
    const close: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
    let s = '';
    const stack: string[] = [];
    for (let i = 0, n = rng.int(2, 12); i < n; i++) {
      const r = rng.next();
      if (r < 0.4) {
        const o = rng.pick(open.split(''));
        stack.push(o);
        s += o;
      } else if (r < 0.75 && stack.length > 0) s += close[stack.pop() as string];
      else s += rng.pick(p.quotes ? ['a', 'b', "'", 'x'] : ['a', 'b', 'x']);
    }
    // Mostly balanced strings, sometimes left open or with a stray closer.
    if (rng.chance(0.6)) while (stack.length) s += close[stack.pop() as string];
    if (rng.chance(0.2)) s += rng.pick([')', ']', '}'].slice(0, open.length));
    return [py(s)];
  },
};
