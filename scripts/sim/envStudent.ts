/**
 * The simulated student for abduction, deduction and fuzzing. It sees the code, reads f's
 * docstring back into (family, parameters) and so knows d; each attempt succeeds with probability
 * sigmoid(sharpness * (skill - d - ENV_OFFSET[env])). It works values out by running its own
 * rebuild of the family's code (never code from the prompt). A failed attempt is plausibly wrong:
 * - deduction: the output of a mis-traced step (a family mutation), an off-by-one value, a type
 *   slip (a tuple for a list, 3.0 for 3), or the call itself written where a literal belongs;
 * - abduction: an input that gives o under a misreading of f (it may still be right), an input
 *   giving another output, the output echoed as the input, or an expression instead of a literal;
 * - fuzzing: an input it wrongly believed reveals the flaw (right by luck as often as the flaw
 *   shows), an input that fails pre_test_f (a wrong type), the wrong number of arguments, or an
 *   expression instead of a literal.
 * Without a readable docstring it guesses. The analysis is done once per request; every choice
 * then draws from its own stream.
 */
import { candidateArgs, ENV_OFFSET, functionsOf, hintFromCode, stripDoc, type SimEnv } from './envs';
import type { AnyFamily, Args } from './families';
import type { StudentPrompt } from './prompt';
import { pyStr } from './pyfmt';
import { outOf, pyRun, type PyOp } from './pyexec';
import { sigmoid, type Rng } from './rng';
import type { SimSettings } from './settings';

export type EnvAttemptKind =
  | 'correct'
  | 'mistrace'
  | 'off_by_one'
  | 'type_slip'
  | 'misread'
  | 'near_miss'
  | 'echo'
  | 'miss'
  | 'invalid_input'
  | 'arity'
  | 'malformed'
  | 'guess';

export interface EnvAttempt {
  kind: EnvAttemptKind;
  /** The literal written in the answer block, or null when the answer has no block. */
  answer: string | null;
  /** The difficulty the student read (null when it could not read the code). */
  d: number | null;
}

type Env = Exclude<SimEnv, 'induction'>;

/** What one request's analysis found out, shared by its n attempts. */
interface Analysis {
  env: Env;
  d: number | null;
  /** Deduction: the value; abduction/fuzzing: inputs that earn the reward. */
  right: string[];
  /** Plausible wrong answers by kind (possibly empty). */
  wrong: Partial<Record<EnvAttemptKind, string[]>>;
  /** The family's possible slips, and what a reader making one or two of them would answer. */
  bugs: readonly string[];
  bySlips: Map<string, string[]>;
  /** What to write when malformed. */
  malformed: string;
}

/** Slip sets a failing reader may make: each single slip and each pair. */
function slipSets(bugs: readonly string[]): string[][] {
  return [...bugs.map((b) => [b]), ...bugs.flatMap((a, i) => bugs.slice(i + 1).map((b) => [a, b]))];
}

const slipKey = (set: readonly string[]): string => [...set].sort().join('+');

/**
 * The slips of one failed attempt: at least one, a second more likely on harder problems (as in
 * induction), so that on a hard problem a misreading rarely lands on the right answer by luck.
 */
function chooseSlips(bugs: readonly string[], d: number, rng: Rng): string[] {
  const order = rng.shuffle(bugs);
  const out = order.slice(0, 1);
  const second = order[1];
  if (second !== undefined && rng.chance(0.25 + 0.6 * d)) out.push(second);
  return out;
}

const join = (a: Args): string => a.join(', ');

/** The candidates of this family and their outputs under the reference code. */
async function candidateOutputs(family: AnyFamily, params: unknown, extraCodes: string[], extraOps: PyOp[] = []) {
  const cands = candidateArgs(family, params).args;
  const codes = [family.code(params), ...extraCodes];
  const ops: PyOp[] = [...extraOps];
  for (const code of codes) for (const a of cands) ops.push({ op: 'call', code, entry: 'f', args: join(a) });
  const res = await pyRun(ops);
  const pre = res.slice(0, extraOps.length);
  const outs = codes.map((_c, j) => res.slice(extraOps.length + j * cands.length, extraOps.length + (j + 1) * cands.length).map(outOf));
  return { cands, outs, pre };
}

async function analyseDeduction(prompt: StudentPrompt): Promise<Analysis> {
  const hint = hintFromCode(prompt.code);
  const input = prompt.input ?? '';
  const call = `f(${input})`;
  if (!hint || prompt.input === null) {
    const first = input.split(',')[0]?.trim() || 'None';
    return {
      env: 'deduction',
      d: null,
      right: [],
      wrong: { guess: [first, '0', 'None', '[]'] },
      bugs: [],
      bySlips: new Map(),
      malformed: call,
    };
  }
  const { family, params } = hint;
  const ref = family.code(params);
  const bugs = family.bugs(params);
  const sets = slipSets(bugs);
  const ops: PyOp[] = [
    { op: 'call', code: ref, entry: 'f', args: input },
    ...[0, 1, 2, 3].map((k): PyOp => ({ op: 'call', code: ref, entry: 'f', args: input, perturb: k })),
    { op: 'call', code: ref, entry: 'f', args: input, slip: true },
    ...sets.map((set): PyOp => ({ op: 'call', code: family.code(params, new Set(set)), entry: 'f', args: input })),
  ];
  const res = (await pyRun(ops)).map(outOf);
  const ok = (xs: Array<string | null>): string[] => xs.filter((x): x is string => x !== null);
  const bySlips = new Map(sets.map((set, j) => [slipKey(set), ok([res[6 + j] ?? null])]));
  return {
    env: 'deduction',
    d: family.difficulty(params),
    right: ok([res[0] ?? null]),
    wrong: { off_by_one: ok(res.slice(1, 5)), type_slip: ok([res[5] ?? null]) },
    bugs,
    bySlips,
    malformed: call,
  };
}

async function analyseAbduction(prompt: StudentPrompt): Promise<Analysis> {
  const hint = hintFromCode(prompt.code);
  const o = prompt.output ?? 'None';
  const malformed = `list(range(${(o.length % 5) + 2}))`;
  if (!hint || prompt.output === null) {
    return { env: 'abduction', d: null, right: [], wrong: { guess: [o, '[]', '0', "''"] }, bugs: [], bySlips: new Map(), malformed };
  }
  const { family, params } = hint;
  const bugs = family.bugs(params);
  const sets = slipSets(bugs);
  const { cands, outs, pre } = await candidateOutputs(
    family,
    params,
    sets.map((set) => family.code(params, new Set(set))),
    [{ op: 'canon', literal: o }],
  );
  const target = outOf(pre[0]) ?? o;
  const ref = outs[0] ?? [];
  // A misreading searches for an input that gives o under the function as misread.
  const bySlips = new Map(sets.map((set, j) => [slipKey(set), cands.filter((_a, i) => outs[j + 1]?.[i] === target).map(join)]));
  return {
    env: 'abduction',
    d: family.difficulty(params),
    right: cands.filter((_a, i) => ref[i] === target).map(join),
    wrong: { near_miss: cands.filter((_a, i) => ref[i] !== null && ref[i] !== target).map(join), echo: [o] },
    bugs,
    bySlips,
    malformed,
  };
}

async function analyseFuzzing(prompt: StudentPrompt, rngForGuess: Rng): Promise<Analysis> {
  const malformed = `[x for x in range(${rngForGuess.int(3, 9)})]`;
  const hint = hintFromCode(prompt.code);
  const none = { bugs: [], bySlips: new Map<string, string[]>() };
  if (!hint || prompt.code === null)
    return { env: 'fuzzing', d: null, right: [], wrong: { guess: ['[]', '0', "''", ...prompt.passing] }, malformed, ...none };
  const { family, params } = hint;
  const fSrc = stripDoc(functionsOf(prompt.code).get('f') ?? '');
  const same = (code: string): boolean =>
    code
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n')
      .trim() === fSrc;
  // Reading the code: which of the family's slips does this f have?
  const bugs = family.bugs(params);
  const flaw = [[], ...slipSets(bugs)].find((s) => same(family.code(params, new Set(s))));
  const cands = candidateArgs(family, params).args;
  const invalid = cands.slice(0, 6).map((a) => {
    const bad = [...a];
    const first = a[0] ?? '0';
    bad[0] = /^['"]/.test(first) ? (first.length % 2 === 0 ? 'None' : '0') : first.length % 2 === 0 ? 'None' : pyStr(first);
    return join(bad);
  });
  const arity = cands.slice(0, 6).map((a) => (a.length > 1 ? join(a.slice(0, -1)) : join([...a, '0'])));
  if (!flaw) {
    return {
      env: 'fuzzing',
      d: family.difficulty(params),
      right: [],
      wrong: { miss: [...cands.map(join), ...prompt.passing], invalid_input: invalid, arity },
      malformed,
      ...none,
    };
  }
  const { outs } = await candidateOutputs(family, params, [family.code(params, new Set(flaw))]);
  const ref = outs[0] ?? [];
  const mine = outs[1] ?? [];
  const fails = cands.map((_a, i) => mine[i] === null || mine[i] !== ref[i]);
  return {
    env: 'fuzzing',
    d: family.difficulty(params),
    right: cands.filter((_a, i) => fails[i]).map(join),
    wrong: { miss: [...cands.map(join), ...prompt.passing], invalid_input: invalid, arity },
    malformed,
    ...none,
  };
}

/** Wrong-answer kinds in order of preference, with the share of failed attempts each takes. */
const WRONG: Record<Env, Array<[EnvAttemptKind, number]>> = {
  deduction: [
    ['mistrace', 0.45],
    ['off_by_one', 0.3],
    ['type_slip', 0.1],
    ['malformed', 0.15],
  ],
  abduction: [
    ['misread', 0.45],
    ['near_miss', 0.25],
    ['echo', 0.12],
    ['malformed', 0.18],
  ],
  fuzzing: [
    ['miss', 0.55],
    ['invalid_input', 0.25],
    ['arity', 0.08],
    ['malformed', 0.12],
  ],
};
const FALLBACK: Record<Env, EnvAttemptKind> = { deduction: 'off_by_one', abduction: 'near_miss', fuzzing: 'miss' };

function one(a: Analysis, settings: Readonly<SimSettings>, rng: Rng): EnvAttempt {
  if (a.d === null) {
    const guesses = a.wrong.guess ?? ['None'];
    return rng.chance(0.15) ? { kind: 'malformed', answer: a.malformed, d: null } : { kind: 'guess', answer: rng.pick(guesses), d: null };
  }
  const p = sigmoid(settings.sharpness * (settings.skill - a.d - ENV_OFFSET[a.env]));
  if (rng.chance(p) && a.right.length > 0) return { kind: 'correct', answer: rng.pick(a.right), d: a.d };
  let u = rng.next();
  let kind: EnvAttemptKind = FALLBACK[a.env];
  for (const [k, share] of WRONG[a.env]) {
    u -= share;
    if (u < 0) {
      kind = k;
      break;
    }
  }
  if (kind === 'malformed') return { kind, answer: rng.chance(0.3) ? null : a.malformed, d: a.d };
  const pool =
    (kind === 'mistrace' || kind === 'misread') && a.bugs.length > 0
      ? (a.bySlips.get(slipKey(chooseSlips(a.bugs, a.d, rng))) ?? [])
      : (a.wrong[kind] ?? []);
  if (pool.length > 0) return { kind, answer: rng.pick(pool), d: a.d };
  const fb = a.wrong[FALLBACK[a.env]] ?? [];
  if (fb.length > 0) return { kind: FALLBACK[a.env], answer: rng.pick(fb), d: a.d };
  return { kind: 'malformed', answer: a.malformed, d: a.d };
}

/** `n` attempts at one prompt, one stream each. */
export async function envAttempts(env: Env, prompt: StudentPrompt, settings: Readonly<SimSettings>, rngs: Rng[]): Promise<EnvAttempt[]> {
  const first = rngs[0];
  if (!first) return [];
  const a =
    env === 'deduction'
      ? await analyseDeduction(prompt)
      : env === 'abduction'
        ? await analyseAbduction(prompt)
        : await analyseFuzzing(prompt, first.fork('guess'));
  return rngs.map((rng) => one(a, settings, rng));
}

const PROSE: Record<EnvAttemptKind, string> = {
  correct: 'Working through the code step by step:',
  mistrace: 'Tracing the function on the input:',
  off_by_one: 'Following each step of f:',
  type_slip: 'The function returns:',
  misread: 'Working backwards from the output:',
  near_miss: 'An input that should give this:',
  echo: 'The output itself should do:',
  miss: 'This input should break the test:',
  invalid_input: 'An unusual input the function does not expect:',
  arity: 'Trying this input:',
  malformed: 'My answer:',
  guess: 'I cannot follow this code, so a guess:',
};

export function renderEnvStudent(env: Env, a: EnvAttempt): string {
  if (a.answer === null) return `${PROSE[a.kind]} the function returns something close to its input.\n`;
  const lang = env === 'deduction' ? 'output' : 'input';
  return `${PROSE[a.kind]}\n\n\`\`\`${lang}\n${a.answer}\n\`\`\`\n`;
}

export function envStudentReasoning(env: Env, a: EnvAttempt): string {
  return [
    `Environment ${env}.`,
    a.d === null ? 'The docstring does not tell me what f does.' : 'The docstring and the code tell me what f does; I will work it out.',
    'A draft, not the answer:',
    '```input\nNone\n```',
  ].join('\n');
}
