/** Family: a chain of string transforms (case, word order, vowels, Caesar shift, runs). */
import { phrases, Scanner, tryParse, num, check } from '../phrase';
import { py, src, sentence } from '../pyfmt';
import type { Rng } from '../rng';
import { normalise, NO_BUGS, type Bugs, type Family } from './family';

type StepKind = 'lower' | 'rev_words' | 'rev_each' | 'no_vowels' | 'dedupe' | 'shift' | 'upper_nth' | 'rle';

export interface Step {
  kind: StepKind;
  /** Shift amount or word period; 0 when unused. */
  n: number;
}

export interface StringParams {
  steps: Step[];
}

const KINDS: readonly StepKind[] = ['lower', 'rev_words', 'rev_each', 'no_vowels', 'dedupe', 'shift', 'upper_nth', 'rle'];
const WEIGHT: Record<StepKind, number> = {
  lower: 0.4,
  rev_words: 0.8,
  rev_each: 0.8,
  no_vowels: 0.8,
  dedupe: 1.2,
  shift: 1.5,
  upper_nth: 1.5,
  rle: 2,
};
const STEPS = phrases<StepKind>({
  lower: 'lowercase it',
  rev_words: 'reverse the order of the words',
  rev_each: 'reverse each word',
  no_vowels: 'remove the vowels',
  dedupe: 'collapse each run of a repeated character into one',
  shift: 'shift each letter {n} places forward in the alphabet (wrapping around, keeping case)',
  upper_nth: 'uppercase every word whose position (counting from 1) is a multiple of {n}',
  rle: 'run-length encode it (for each run: the count, then the character)',
});
const INTRO = 'transform the string (words are separated by single spaces): ';

function stepLines(step: Step, bug: Bugs): string[] {
  const split = bug.has('split') ? 's.split()' : "s.split(' ')";
  switch (step.kind) {
    case 'lower':
      return ['    s = s.lower()'];
    case 'rev_words':
      return [`    s = ' '.join(${split}[::-1])`];
    case 'rev_each':
      return [`    s = ' '.join(w[::-1] for w in ${split})`];
    case 'no_vowels':
      return [`    s = ''.join(c for c in s if c not in ${py(bug.has('vowels') ? 'aeiou' : 'aeiouAEIOU')})`];
    case 'dedupe':
      return [
        '    out = []',
        '    for c in s:',
        '        if not out or out[-1] != c:',
        '            out.append(c)',
        "    s = ''.join(out)",
      ];
    case 'shift': {
      const k = bug.has('off1') ? step.n + 1 : step.n;
      const wrap = bug.has('wrap') ? '' : ' % 26';
      return [
        '    out = []',
        '    for c in s:',
        "        if 'a' <= c <= 'z':",
        `            out.append(chr((ord(c) - 97 + ${k})${wrap} + 97))`,
        "        elif 'A' <= c <= 'Z':",
        `            out.append(chr((ord(c) - 65 + ${k})${wrap} + 65))`,
        '        else:',
        '            out.append(c)',
        "    s = ''.join(out)",
      ];
    }
    case 'upper_nth': {
      const pos = bug.has('off1') ? 'i' : '(i + 1)';
      return [`    s = ' '.join(w.upper() if ${pos} % ${step.n} == 0 else w for i, w in enumerate(${split}))`];
    }
    case 'rle': {
      const piece = bug.has('rle') ? 's[i] + str(j - i)' : 'str(j - i) + s[i]';
      return [
        '    out = []',
        '    i = 0',
        '    while i < len(s):',
        '        j = i',
        '        while j < len(s) and s[j] == s[i]:',
        '            j += 1',
        `        out.append(${piece})`,
        '        i = j',
        "    s = ''.join(out)",
      ];
    }
  }
}

const WORDS = ['apple', 'Tree', 'moon', 'sky', 'Bob', 'zebra', 'yak', 'book', 'EAGLE', 'sun', 'river', 'Hello'];

export const stringSteps: Family<StringParams> = {
  id: 'string_steps',
  blurb: 'applies a chain of transforms to a string',

  sample(rng: Rng): StringParams {
    const kinds = rng.sample(KINDS, rng.int(1, 4));
    return { steps: kinds.map((kind) => ({ kind, n: kind === 'shift' ? rng.int(1, 5) : kind === 'upper_nth' ? rng.int(2, 3) : 0 })) };
  },

  difficulty(p) {
    const raw = p.steps.reduce((a, s) => a + WEIGHT[s.kind], 0) + 0.6 * (p.steps.length - 1);
    return normalise(raw, 0.4, 8);
  },

  code(p, bug = NO_BUGS) {
    let steps = p.steps;
    if (bug.has('skip')) steps = steps.slice(1);
    if (bug.has('swap') && steps.length >= 2) steps = [steps[1] as Step, steps[0] as Step, ...steps.slice(2)];
    return src('def f(s):', steps.map((st) => stepLines(st, bug)).flat(), '    return s');
  },

  bugs(p) {
    const kinds = new Set(p.steps.map((s) => s.kind));
    const out: string[] = [];
    if (kinds.has('rev_words') || kinds.has('rev_each') || kinds.has('upper_nth')) out.push('split');
    if (kinds.has('no_vowels')) out.push('vowels');
    if (kinds.has('shift') || kinds.has('upper_nth')) out.push('off1');
    if (kinds.has('shift')) out.push('wrap');
    if (kinds.has('rle')) out.push('rle');
    if (p.steps.length >= 2) out.push('skip', 'swap');
    return out;
  },

  message(p) {
    return sentence(INTRO + p.steps.map((s) => STEPS[s.kind].write({ n: s.n })).join(', then ') + '.');
  },

  parse(message) {
    return tryParse(() => {
      const sc = new Scanner(message);
      sc.lit(INTRO);
      const steps: Step[] = [];
      do {
        const [kind, v] = sc.choose(STEPS);
        const n = kind === 'shift' || kind === 'upper_nth' ? num(v, 'n') : 0;
        check(kind !== 'upper_nth' || n > 0, 'period');
        steps.push({ kind, n });
      } while (sc.maybeLit(', then '));
      sc.lit('.');
      sc.done();
      return { steps };
    });
  },

  edgeInputs() {
    return [[py('')], [py('Hello  World')], [py('aaBBbb ccc zz')], [py('Zebra yak ZOO')], [py(' lead and trail ')]];
  },

  randomInput(_p, rng) {
    const words = Array.from({ length: rng.int(1, 4) }, () => rng.pick(WORDS));
    return [py(words.join(rng.chance(0.2) ? '  ' : ' '))];
  },
};
