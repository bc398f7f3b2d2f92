/** Family: word frequencies in a text (normalisation, filters, ranking). */
import { Phrase, phrases, Scanner, tryParse, num } from '../phrase';
import { py, src, sentence } from '../pyfmt';
import type { Rng } from '../rng';
import { normalise, NO_BUGS, type Args, type Bugs, type Family } from './family';

type OutKind = 'best' | 'once' | 'atleast' | 'top';

export interface WordParams {
  /** Strip . , ! ? from both ends of each word (dropping words that become empty). */
  strip: boolean;
  /** Drop words shorter than this; 0 keeps all. */
  minLen: number;
  /** Drop the words the, a, and, of. */
  stop: boolean;
  out: OutKind;
  /** m for 'top', k for 'atleast'; 0 otherwise. */
  n: number;
}

const OUT_W: Record<OutKind, number> = { best: 0.3, once: 0.8, atleast: 1, top: 1.5 };
const STRIP = new Phrase(', stripping the characters . , ! ? from both ends (dropping words that become empty)');
const MIN_LEN = new Phrase(', dropping words shorter than {L}');
const STOP = new Phrase(', dropping the words the, a, and, of');
const OUTS = phrases<OutKind>({
  best: 'return the most frequent word (ties: alphabetically first), or None if there are no words',
  once: 'return the sorted list of words that occur exactly once',
  atleast: 'return a dict, sorted by word, of the words that occur at least {n} times with their counts',
  top: 'return the {n} most frequent words, most frequent first (ties alphabetical)',
});
const INTRO = 'split the text on whitespace and lowercase each word';

function outLines(p: WordParams, bug: Bugs): string[] {
  const order = bug.has('ties') ? 'sorted(counts, key=counts.get, reverse=True)' : 'sorted(counts, key=lambda w: (-counts[w], w))';
  switch (p.out) {
    case 'best':
      return ['    if not counts:', '        return None', `    return ${order}[0]`];
    case 'once':
      return ['    return sorted(w for w, c in counts.items() if c == 1)'];
    case 'atleast':
      return [`    return {w: c for w, c in sorted(counts.items()) if c ${bug.has('cmp') ? '>' : '>='} ${p.n}}`];
    case 'top':
      return [`    return ${order}[:${bug.has('off1') ? p.n + 1 : p.n}]`];
  }
}

const WORDS = ['the', 'The', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'Dog', 'ran', 'of', 'sun', 'it', 'cat,', 'mat.', 'ran!'];

export const wordCounts: Family<WordParams> = {
  id: 'word_counts',
  blurb: 'counts words of a text in a dict and reports the frequent ones',

  sample(rng: Rng): WordParams {
    const out = rng.pick<OutKind>(['best', 'once', 'atleast', 'top']);
    return {
      strip: rng.chance(0.5),
      minLen: rng.chance(0.5) ? rng.int(2, 4) : 0,
      stop: rng.chance(0.5),
      out,
      n: out === 'top' ? rng.int(2, 3) : out === 'atleast' ? rng.int(2, 3) : 0,
    };
  },

  difficulty(p) {
    const raw = (p.strip ? 0.8 : 0) + (p.minLen > 0 ? 0.8 : 0) + (p.stop ? 0.6 : 0) + OUT_W[p.out];
    return normalise(raw, 0.3, 3.7);
  },

  code(p, bug = NO_BUGS) {
    return src(
      'def f(text):',
      '    counts = {}',
      '    for word in text.split():',
      !bug.has('lower') && '        word = word.lower()',
      p.strip && [`        word = word.strip(${py(bug.has('strip') ? '.,' : '.,!?')})`, '        if not word:', '            continue'],
      p.minLen > 0 && [`        if len(word) ${bug.has('len') ? '<=' : '<'} ${p.minLen}:`, '            continue'],
      p.stop && ["        if word in ('the', 'a', 'and', 'of'):", '            continue'],
      '        counts[word] = counts.get(word, 0) + 1',
      outLines(p, bug),
    );
  },

  bugs(p) {
    const out = ['lower'];
    if (p.strip) out.push('strip');
    if (p.minLen > 0) out.push('len');
    if (p.out === 'best' || p.out === 'top') out.push('ties');
    if (p.out === 'top') out.push('off1');
    if (p.out === 'atleast') out.push('cmp');
    return out;
  },

  message(p) {
    return sentence(
      INTRO +
        (p.strip ? STRIP.write() : '') +
        (p.minLen > 0 ? MIN_LEN.write({ L: p.minLen }) : '') +
        (p.stop ? STOP.write() : '') +
        '; count the words, then ' +
        OUTS[p.out].write({ n: p.n }) +
        '.',
    );
  },

  parse(message) {
    return tryParse(() => {
      const s = new Scanner(message);
      s.lit(INTRO);
      const strip = s.maybe(STRIP) !== null;
      const lv = s.maybe(MIN_LEN);
      const stop = s.maybe(STOP) !== null;
      s.lit('; count the words, then ');
      const [out, ov] = s.choose(OUTS);
      s.lit('.');
      s.done();
      return { strip, minLen: lv ? num(lv, 'L') : 0, stop, out, n: out === 'top' || out === 'atleast' ? num(ov, 'n') : 0 };
    });
  },

  edgeInputs() {
    const one = (s: string): Args => [py(s)];
    return [
      one(''),
      one('The cat and the dog. A dog, a CAT!'),
      one('ox ox bee bee ant'),
      one('Hi! hi, hi? ... yo'),
      one('of of of the the an an an an'),
    ];
  },

  randomInput(_p, rng) {
    return [py(Array.from({ length: rng.int(3, 10) }, () => rng.pick(WORDS)).join(' '))];
  },
};
