/**
 * The simulated student (induction): it reads the hint, rebuilds the function from the family's
 * template, and gets it right with probability sigmoid(sharpness * (skill - d)), where d comes
 * from the parameters it read. Otherwise it writes a plausible wrong answer. It never sees the
 * teacher's code, Cairn's database or the sandbox: only the prompt.
 */
import * as faults from './codeFaults';
import { parseHint } from './families';
import type { StudentPrompt } from './prompt';
import { sigmoid, type Rng } from './rng';
import type { SimSettings } from './settings';

export type AttemptKind = 'correct' | 'mutation' | 'runtime_error' | 'syntax_error' | 'infinite_loop' | 'guess';

export interface Attempt {
  kind: AttemptKind;
  code: string;
  /** The difficulty the student read from the hint (null when it could not read it). */
  d: number | null;
}

/** Counts top-level commas of an argument list, skipping strings and brackets. */
export function countArgs(input: string): number {
  let depth = 0;
  let n = input.trim() === '' ? 0 : 1;
  let quote: string | null = null;
  for (let i = 0; i < input.length; i++) {
    const c = input[i] as string;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) n++;
  }
  return n;
}

/** Without a readable hint: a guess shaped like the examples (constant, echo, or length). */
function guess(prompt: StudentPrompt, rng: Rng): string {
  const first = prompt.examples[0];
  const params = Array.from({ length: first ? Math.max(1, countArgs(first.input)) : 1 }, (_x, i) => `a${i}`);
  const head = `def f(${params.join(', ')}):`;
  const options = [
    first ? `    return ${first.output.trim()}` : '    return None',
    '    return a0',
    '    return len(a0)',
    '    return sorted(a0)',
  ];
  return `${head}\n${rng.pick(options)}\n`;
}

/**
 * The mistakes of a failed attempt: at least one, and more on harder problems (each further
 * applicable mistake with probability 0.25 + 0.6 d). A single slip often survives weak tests; a
 * confused attempt at a hard problem rarely does, so hard problems can reach p = 0.
 */
function chooseBugs(bugs: readonly string[], d: number, rng: Rng): Set<string> {
  const order = rng.shuffle(bugs);
  const chosen = new Set<string>([order[0] as string]);
  for (const b of order.slice(1)) if (rng.chance(0.25 + 0.6 * d)) chosen.add(b);
  return chosen;
}

/** One attempt, decided by `rng` (one stream per choice, so attempts are independent). */
export function attempt(prompt: StudentPrompt, settings: Readonly<SimSettings>, rng: Rng): Attempt {
  const hint = parseHint(prompt.message);
  if (!hint) return { kind: 'guess', code: guess(prompt, rng), d: null };
  const { family, params } = hint;
  const d = family.difficulty(params);
  const correct = family.code(params);
  if (rng.chance(sigmoid(settings.sharpness * (settings.skill - d)))) return { kind: 'correct', code: correct, d };
  const u = rng.next();
  const bugs = family.bugs(params);
  if (u < 0.76 && bugs.length > 0) return { kind: 'mutation', code: family.code(params, chooseBugs(bugs, d, rng)), d };
  if (u < 0.89) return { kind: 'runtime_error', code: faults.indexPastEnd(correct), d };
  if (u < 0.97) {
    const code = rng.chance(0.5) ? faults.dropDefColon(correct) : faults.unbalance(correct);
    return { kind: 'syntax_error', code, d };
  }
  return { kind: 'infinite_loop', code: faults.stuckLoop(correct), d };
}

const PROSE: Record<AttemptKind, string> = {
  correct: 'Reading the hint and checking it against the examples, the function is:',
  mutation: 'From the hint and the examples, I believe the function is:',
  runtime_error: 'Following the hint step by step:',
  syntax_error: 'Here is my implementation:',
  infinite_loop: 'Here is an implementation that walks through the input:',
  guess: 'The hint is unclear to me, so this is a guess based on the examples:',
};

export function renderStudent(a: Attempt): string {
  return `${PROSE[a.kind]}\n\n\`\`\`python\n${a.code.trimEnd()}\n\`\`\`\n`;
}

export function studentReasoning(a: Attempt, prompt: StudentPrompt): string {
  return [
    `There are ${prompt.examples.length} examples. The hint says: ${prompt.message.slice(0, 200)}`,
    a.d === null ? 'I cannot map the hint to a known pattern.' : 'The hint describes a pattern I know; I will write it out.',
  ].join('\n');
}
