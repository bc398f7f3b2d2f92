/**
 * The simulated teacher for abduction, deduction and fuzzing. Difficulty works as in induction:
 * the family's parameters set d, turn 1 draws d from the U-shaped prior, and on refinement turns
 * the teacher reads its previous parameters back (from the docstring of its previous `f`) and
 * moves d as the instruction asks. Faults at settings.malformedRate (fewer after feedback), each
 * one that Cairn's parser or validator must catch.
 */
import * as faults from './codeFaults';
import { candidateArgs, hintFromCode, paramNames, preTestSource, renameF, withDoc, type SimEnv } from './envs';
import { familyForSeed, paramsForDifficulty, type AnyFamily, type Args } from './families';
import type { TeacherPrompt } from './prompt';
import { outOf, pyRun, type PyOp, type Shape } from './pyexec';
import { clamp01, type Rng } from './rng';
import type { SimSettings } from './settings';
import { instructionMove, priorDifficulty } from './induction-teacher';

/** Faults of the one-input environments (abduction, deduction). */
export const SINGLE_FAULTS = ['input_count', 'syntax', 'raises', 'nondeterministic', 'too_slow', 'banned_import'] as const;
/** Faults of fuzzing: a missing function, an example the harness rejects, and the usual ones. */
export const FUZZ_FAULTS = [
  'missing_pre_test',
  'failing_example',
  'invalid_example',
  'input_count',
  'syntax',
  'too_slow',
  'banned_import',
] as const;
export type EnvFault = (typeof SINGLE_FAULTS)[number] | (typeof FUZZ_FAULTS)[number];

export interface EnvDraft {
  env: Exclude<SimEnv, 'induction'>;
  family: AnyFamily;
  params: unknown;
  d: number;
  code: string;
  inputs: string[];
  fault: EnvFault | null;
  move: 'prior' | 'harder' | 'easier' | 'keep';
  /** Fuzzing: the planted flaw (a family mutation id), null when none could be planted. */
  bug: string | null;
}

/** Where d goes this turn, from the previous problem's parameters (if readable) and the instruction. */
function target(prompt: TeacherPrompt, settings: Readonly<SimSettings>, rng: Rng) {
  const prev = hintFromCode(prompt.previous?.code ?? null);
  const family = prev?.family ?? familyForSeed(prompt.seed);
  if (!prev) return { family, prevParams: undefined, target: priorDifficulty(rng), move: 'prior' as const };
  const d0 = prev.family.difficulty(prev.params);
  const move = instructionMove(prompt.instruction);
  const step = settings.teacherStep;
  const delta = move === 'harder' ? step + 0.05 * rng.normal() : move === 'easier' ? -step + 0.05 * rng.normal() : 0.04 * rng.normal();
  return { family, prevParams: prev.params, target: clamp01(d0 + delta), move };
}

function faultFor<T extends string>(kinds: readonly T[], prompt: TeacherPrompt, settings: Readonly<SimSettings>, rng: Rng): T | null {
  const rate = settings.malformedRate * (prompt.feedback !== null ? settings.feedbackMalformedFactor : 1);
  return rng.chance(Math.min(1, rate)) ? rng.pick(kinds) : null;
}

/**
 * The input, chosen to suit the target: how many of the family's slips change its output (a
 * telling input for deduction: a careless trace shows) and, for abduction, how few candidates
 * share its output (a telling output to invert). Harder targets get more telling inputs.
 */
async function pickInput(
  env: 'abduction' | 'deduction',
  family: AnyFamily,
  params: unknown,
  cands: Args[],
  target: number,
  rng: Rng,
): Promise<Args> {
  const bugs = family.bugs(params);
  const texts = cands.map((a) => a.join(', '));
  const codes = [family.code(params), ...bugs.map((b) => family.code(params, new Set([b])))];
  const res = await pyRun(codes.flatMap((code) => texts.map((args): PyOp => ({ op: 'call', code, entry: 'f', args }))));
  const outs = codes.map((_c, j) => res.slice(j * texts.length, (j + 1) * texts.length).map(outOf));
  const ref = outs[0] ?? [];
  const score = texts.map((_t, i) => {
    const sens = bugs.length === 0 ? 0.5 : bugs.filter((_b, j) => outs[j + 1]?.[i] !== ref[i]).length / bugs.length;
    if (env === 'deduction') return sens;
    const same = ref.filter((o) => o === ref[i]).length;
    return (sens + 1 / same) / 2;
  });
  const order = texts
    .map((_t, i) => ({ i, cost: ref[i] === null ? Infinity : Math.abs((score[i] ?? 0) - target) + 0.15 * rng.next() }))
    .sort((a, b) => a.cost - b.cost);
  return [...(cands[order[0]?.i ?? 0] ?? ['None'])];
}

/** Abduction and deduction: `f` with its hint as docstring, and one input. */
export async function draftSingle(
  env: 'abduction' | 'deduction',
  prompt: TeacherPrompt,
  settings: Readonly<SimSettings>,
  rng: Rng,
): Promise<EnvDraft> {
  const t = target(prompt, settings, rng);
  const params = paramsForDifficulty(t.family, t.target, rng, t.prevParams);
  const { args: cands } = candidateArgs(t.family, params);
  const input = await pickInput(env, t.family, params, cands, t.target, rng);
  let inputs = [input];
  const fault = faultFor(SINGLE_FAULTS, prompt, settings, rng);
  const code = faults.codeFault(fault, withDoc(t.family.code(params), t.family.message(params)));
  switch (fault) {
    case 'input_count':
      inputs = rng.chance(0.5) ? [] : [input, [...rng.pick(cands)]];
      break;
    case 'raises':
      input[0] = 'None';
      break;
    default:
      break;
  }
  return {
    env,
    family: t.family,
    params,
    d: t.family.difficulty(params),
    code,
    inputs: inputs.map((a) => a.join(', ')),
    fault,
    move: t.move,
    bug: null,
  };
}

/** How a flawed f and the reference compare on each candidate: true where the test fails. */
export async function flawMap(
  family: AnyFamily,
  params: unknown,
  bugs: readonly string[],
  cands: readonly string[],
): Promise<Map<string, boolean[]>> {
  const ref = family.code(params);
  const ops: PyOp[] = cands.map((args) => ({ op: 'call', code: ref, entry: 'f', args }));
  for (const b of bugs) for (const args of cands) ops.push({ op: 'call', code: family.code(params, new Set([b])), entry: 'f', args });
  const res = await pyRun(ops);
  const refOut = res.slice(0, cands.length).map(outOf);
  const out = new Map<string, boolean[]>();
  bugs.forEach((b, j) => {
    const mine = res.slice((j + 1) * cands.length, (j + 2) * cands.length).map(outOf);
    // A raise (null) or a different value both make `f(x) == reference_f(x)` fail or raise.
    out.set(
      b,
      mine.map((o, i) => o === null || o !== refOut[i]),
    );
  });
  return out;
}

/** The three functions of a fuzzing problem (test_f compares f with a correct reference). */
export function fuzzCode(family: AnyFamily, params: unknown, bug: string | null, shapes: Shape[]): string {
  const flawed = withDoc(family.code(params, bug ? new Set([bug]) : undefined), family.message(params));
  const ref = renameF(family.code(params), 'reference_f');
  const names = paramNames(ref.replace(/^def reference_f\(/m, 'def f('));
  const call = names.join(', ');
  return [
    flawed.trimEnd(),
    '',
    '',
    ref.trimEnd(),
    '',
    '',
    preTestSource(names, shapes).trimEnd(),
    '',
    '',
    `def test_f(${call}):`,
    `    return f(${call}) == reference_f(${call})`,
    '',
  ].join('\n');
}

/**
 * Fuzzing: plants one of the family's mutations as the flaw, among those that some candidate
 * inputs reveal and others do not (so a failing input exists and examples can pass) the one whose
 * share of revealing inputs suits the target (harder: fewer), writes
 * pre_test_f from the candidates' types and test_f against the reference, and shows two passing
 * inputs.
 */
export async function draftFuzz(prompt: TeacherPrompt, settings: Readonly<SimSettings>, rng: Rng): Promise<EnvDraft> {
  const t = target(prompt, settings, rng);
  let chosen: { params: unknown; bug: string | null; cands: Args[]; fails: boolean[] } | null = null;
  for (let tries = 0; tries < 4 && !chosen; tries++) {
    const params = paramsForDifficulty(t.family, clamp01(t.target + 0.04 * tries * rng.normal()), rng, t.prevParams);
    const cands = candidateArgs(t.family, params).args;
    const bugs = t.family.bugs(params);
    const map = await flawMap(
      t.family,
      params,
      bugs,
      cands.map((a) => a.join(', ')),
    );
    const usable = rng.shuffle(bugs).filter((b) => {
      const f = map.get(b) ?? [];
      return f.some(Boolean) && f.some((x) => !x);
    });
    // A harder target wants a subtler flaw: one that fewer inputs reveal.
    const want = 0.6 * (1 - t.target) + 0.05;
    const share = (b: string): number => {
      const f = map.get(b) ?? [];
      return f.filter(Boolean).length / Math.max(1, f.length);
    };
    const bug = usable.sort((a, b) => Math.abs(share(a) - want) - Math.abs(share(b) - want))[0];
    if (bug !== undefined) chosen = { params, bug, cands, fails: map.get(bug) ?? [] };
    else if (tries === 3) chosen = { params, bug: bugs[0] ?? null, cands, fails: map.get(bugs[0] ?? '') ?? cands.map(() => false) };
  }
  const { params, bug, cands, fails } = chosen as NonNullable<typeof chosen>;
  const shapesRes = await pyRun([{ op: 'schema', inputs: cands.map((a) => a.join(', ')) }]);
  const shapes = JSON.parse(outOf(shapesRes[0]) ?? '[]') as Shape[];
  let code = fuzzCode(t.family, params, bug, shapes);
  const passing = cands.filter((_c, i) => !fails[i]);
  const failing = cands.filter((_c, i) => fails[i]);
  let inputs: Args[] = rng.sample(passing.length > 0 ? passing : cands, 2).map((a) => [...a]);
  const fault = faultFor(FUZZ_FAULTS, prompt, settings, rng);
  code = faults.codeFault(fault, code);
  switch (fault) {
    case 'missing_pre_test':
      code = code.replace(/^def pre_test_f\([\s\S]*?(?=^def test_f)/m, '');
      break;
    case 'failing_example':
      // The teacher shows an input that reveals the flaw: the harness check refuses it.
      inputs = [failing.length > 0 ? [...rng.pick(failing)] : ['None'], ...inputs.slice(1)];
      break;
    case 'invalid_example':
      // A value of the wrong type where the first argument goes: pre_test_f says False.
      inputs = [[...(inputs[0] ?? ['0'])]];
      (inputs[0] as Args)[0] = 'None';
      break;
    case 'input_count':
      inputs = [];
      break;
    default:
      break;
  }
  return {
    env: 'fuzzing',
    family: t.family,
    params,
    d: t.family.difficulty(params),
    code,
    inputs: inputs.map((a) => a.join(', ')),
    fault,
    move: t.move,
    bug,
  };
}

const PROSE: Record<EnvDraft['env'], string> = {
  abduction: 'Here is a function built on the core of the seed; the student will see it and the output of my input.',
  deduction: 'Here is a function built on the core of the seed, and an input whose output the student must predict.',
  fuzzing: 'Here is a function built on the core of the seed with a subtle flaw, its type check and its test.',
};

export function renderEnvTeacher(d: EnvDraft): string {
  const parts = [`${PROSE[d.env]} It ${d.family.blurb}.`, '```python\n' + d.code.trimEnd() + '\n```'];
  if (d.inputs.length > 0) parts.push(d.env === 'fuzzing' ? 'Inputs that pass the test:' : 'The input:');
  for (const i of d.inputs) parts.push('```input\n' + i + '\n```');
  return parts.join('\n\n') + '\n';
}

export function envTeacherReasoning(d: EnvDraft): string {
  const how =
    d.move === 'prior'
      ? 'I will pick a difficulty on my own.'
      : `The instruction asks me to ${d.move === 'keep' ? 'keep the difficulty' : `make it ${d.move}`}.`;
  return [
    `Environment ${d.env}. The seed suggests a function that ${d.family.blurb}. ${how}`,
    'A first sketch, not the answer:',
    '```python\ndef f(*args):\n    return None\n```',
    '```input\n0\n```',
    `I will aim at a difficulty of about ${d.d.toFixed(2)} and document f in its docstring.`,
  ].join('\n');
}
