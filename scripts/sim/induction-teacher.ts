/**
 * The simulated teacher: writes an induction problem (code, 5 inputs, hint) for a seed, and on
 * refinement turns moves the latent difficulty as the instruction asks. It only reads the prompt.
 */
import * as faults from './codeFaults';
import { familyForSeed, paramsForDifficulty, parseHint, writeInputs, type AnyFamily, type Args } from './families';
import type { TeacherPrompt } from './prompt';
import { clamp01, type Rng } from './rng';
import type { SimSettings } from './settings';

/** The teacher's validation faults (what Cairn's validator has to catch). */
export const TEACHER_FAULTS = [
  'missing_message',
  'input_count',
  'syntax',
  'raises',
  'nondeterministic',
  'too_slow',
  'banned_import',
] as const;
export type TeacherFault = (typeof TEACHER_FAULTS)[number];

const FAULT_WEIGHTS: Record<TeacherFault, number> = {
  missing_message: 0.2,
  input_count: 0.15,
  syntax: 0.15,
  raises: 0.15,
  nondeterministic: 0.1,
  too_slow: 0.1,
  banned_import: 0.15,
};

/** A problem before rendering (also what tests inspect). */
export interface Draft {
  family: AnyFamily;
  params: unknown;
  d: number;
  code: string;
  inputs: string[];
  message: string | null;
  fault: TeacherFault | null;
  /** How the target difficulty was chosen, for the reasoning text. */
  move: 'prior' | 'harder' | 'easier' | 'keep';
}

/**
 * Turn-1 prior over d: arcsine (U-shaped), so about 80% of first drafts land outside 0.35-0.65,
 * mostly too easy or too hard, as the paper observes for single-turn generation.
 */
export function priorDifficulty(rng: Rng): number {
  return (1 - Math.cos(Math.PI * rng.next())) / 2;
}

export function instructionMove(instruction: string): 'harder' | 'easier' | 'keep' {
  const harder = /\bharder\b/i.test(instruction);
  const easier = /\beasier\b/i.test(instruction);
  if (harder && !easier) return 'harder';
  if (easier && !harder) return 'easier';
  return 'keep';
}

function pickFault(rng: Rng): TeacherFault {
  let u = rng.next();
  for (const f of TEACHER_FAULTS) {
    u -= FAULT_WEIGHTS[f];
    if (u < 0) return f;
  }
  return 'missing_message';
}

/** Decides the problem: family, difficulty, parameters, inputs and (maybe) a fault. */
export function draftProblem(prompt: TeacherPrompt, settings: Readonly<SimSettings>, rng: Rng): Draft {
  const prev = prompt.previous?.message ? parseHint(prompt.previous.message) : null;
  const family = prev?.family ?? familyForSeed(prompt.seed);
  let target: number;
  let move: Draft['move'] = 'prior';
  if (prev) {
    const d0 = prev.family.difficulty(prev.params);
    move = instructionMove(prompt.instruction);
    const step = settings.teacherStep;
    const delta = move === 'harder' ? step + 0.05 * rng.normal() : move === 'easier' ? -step + 0.05 * rng.normal() : 0.04 * rng.normal();
    target = clamp01(d0 + delta);
  } else {
    // First turn, single-turn call, or a previous problem whose hint is unreadable: start afresh.
    target = priorDifficulty(rng);
  }
  const params = paramsForDifficulty(family, target, rng, prev?.params);
  const wantsStrongTests = /\b(diverse|stronger|strengthen|weak)\b/i.test(prompt.instruction);
  const lazy = rng.chance(wantsStrongTests ? Math.min(0.05, settings.lazyInputsRate) : settings.lazyInputsRate);
  const args: Args[] = writeInputs(family, params, rng, !lazy);

  // Format feedback works: shown its previous error, the teacher slips less often.
  const rate = settings.malformedRate * (prompt.feedback !== null ? settings.feedbackMalformedFactor : 1);
  const fault = rng.chance(Math.min(1, rate)) ? pickFault(rng) : null;

  const code = faults.codeFault(fault, family.code(params));
  let message: string | null = family.message(params);
  switch (fault) {
    case 'missing_message':
      message = null;
      break;
    case 'input_count':
      if (rng.chance(0.5)) args.pop();
      else args.push(family.randomInput(params, rng));
      break;
    case 'raises': {
      // An input the function cannot take: None where its first argument should be.
      const victim = args[rng.int(0, args.length - 1)];
      if (victim) victim[0] = 'None';
      break;
    }
    case null:
      break;
  }
  return { family, params, d: family.difficulty(params), code, inputs: args.map((a) => a.join(', ')), message, fault, move };
}

/** Renders the answer: prose, one ```python block, the ```input blocks, one ```message block. */
export function renderTeacher(draft: Draft): string {
  const parts = [
    `Here is a problem that keeps the core of the seed: a function that ${draft.family.blurb}.`,
    '```python\n' + draft.code.trimEnd() + '\n```',
    'Inputs, each a Python argument list:',
    ...draft.inputs.map((i) => '```input\n' + i + '\n```'),
  ];
  if (draft.message !== null) parts.push('Hint for the solver:', '```message\n' + draft.message + '\n```');
  return parts.join('\n\n') + '\n';
}

/** Reasoning text (think tags / reasoning_content). It holds a draft block on purpose: Cairn must
 * keep reasoning away from its block parser. */
export function teacherReasoning(draft: Draft): string {
  const how =
    draft.move === 'prior'
      ? 'I will pick a difficulty on my own.'
      : `The instruction asks me to ${draft.move === 'keep' ? 'keep the difficulty' : `make it ${draft.move}`}.`;
  return [
    `The seed suggests a function that ${draft.family.blurb}. ${how}`,
    'A first sketch, not the answer:',
    '```python\ndef f(*args):\n    return None\n```',
    `I will aim at a difficulty of about ${draft.d.toFixed(2)} and state every parameter in the hint.`,
  ].join('\n');
}
