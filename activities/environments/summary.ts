/**
 * What every environment's prompts share: the progression instruction in words, the teacher's
 * request (rules, seed, previous problem with its performance summary, instruction, format), and
 * the parser of a student's Python-literal answer. The section headings are the protocol the
 * simulator (and any reader of the prompts) relies on:
 * teacher `# Environment: <name>`, `## Seed`, `## Previous problem`, `## Student performance` or
 * `## Feedback`, `## Instruction`, `## Output format`; student `# Environment: <name>`, the
 * environment's sections, `## Answer format`.
 */
import type { EnvName, Instruction } from '../../workflows/contracts';
import { PAPER_CHAIN_BINS, TARGET_BAND, percentRange, type ChainBins } from '../../workflows/method/numbers';
import { fence, truncate } from './blocks';
import type { ChatMessage, PreviousProblem } from './environment';

export const TEACHER_SYSTEM =
  'You are the TEACHER: you write Python programming problems that are precisely as hard as asked. ' +
  'You answer only in the requested fenced-block format.';
export const STUDENT_SYSTEM = 'You are a skilled Python programmer. Answer in the requested format.';

/** Longest teacher input (abduction, deduction, fuzzing): the student has to read it. */
export const MAX_INPUT_CHARS = 2_000;
/** Longest output a student is shown (abduction) or has to write (deduction). */
export const MAX_OUTPUT_CHARS = 2_000;

/** The p = 1 message: what "too easy" usually means in each environment. */
const WEAK: Record<EnvName, string> = {
  induction:
    'the tests are probably too weak (a trivial function may pass). Make the problem harder, and choose inputs with diverse, distinguishing outputs',
  abduction:
    'the output is probably too easy to reach (an obvious input, or very many inputs, give it). Make the problem harder: choose a function and an input whose output takes real reasoning to invert',
  deduction:
    'tracing the function on this input is too easy. Make the problem harder: more steps or state to follow, and an input that exercises them',
  fuzzing:
    'the flaw is probably too easy to trigger, or pre_test_f is too loose (inputs outside the intended domain make test_f fail). Make the problem harder: a subtler flaw that only some valid inputs reveal, and a pre_test_f that admits exactly the inputs f is meant for',
};

const KEEP: Record<EnvName, string> = {
  induction: 'Keep the core task, and strengthen the tests or vary the problem.',
  abduction: 'Keep the core task, and vary the function or the input.',
  deduction: 'Keep the core task, and vary the function or the input.',
  fuzzing: 'Keep the core task, and vary the flaw or the function.',
};

const EASIER_TAIL: Record<EnvName, string> = {
  induction: '',
  abduction: ' Make sure an input giving the output can be found by reasoning about the code.',
  deduction: '',
  fuzzing: ' Make sure some valid input makes test_f fail, and that it can be found by reading the code.',
};

/**
 * The progression instruction, in words (the only place its text lives). The numbers come from the
 * method module and the batch's chain bins, so the teacher is asked for what the workflow steers to.
 */
export function instructionText(
  instr: Instruction,
  passRate: number | null,
  env: EnvName = 'induction',
  bins: ChainBins = PAPER_CHAIN_BINS,
): string {
  const p = passRate === null ? '' : ` (pass rate ${passRate.toFixed(2)})`;
  const target = percentRange(TARGET_BAND);
  const [hard, medium, easy] = [percentRange(bins.hard), percentRange(bins.medium), percentRange(bins.easy)];
  switch (instr) {
    case 'initial':
      return 'Write a new problem based on the seed.';
    case 'harder':
      return `The student solved it too often${p}. Make the problem harder: aim for a medium problem that the student solves ${target} of the time.`;
    case 'harder_weak_tests':
      return `Every attempt passed${p}: ${WEAK[env]}; aim for a pass rate of ${target}.`;
    case 'easier':
      return `The student never solved it${p}. Make the problem easier, keeping the core idea.${EASIER_TAIL[env]}`;
    case 'keep':
      return `The difficulty is about right${p}. ${KEEP[env]}`;
    case 'fix':
      return 'Your previous problem could not be used (see the feedback). Write a valid problem in the exact output format.';
    case 'chain_hard':
      return `Write a hard problem based on the seed: one that a strong student solves only ${hard} of the time.`;
    case 'chain_harder':
      return `The student solved it too often${p} for a hard problem. Make it harder: aim for a pass rate of ${hard}.`;
    case 'chain_easier':
      return `The student almost never solved it${p}. Make it easier, but still hard: aim for a pass rate of ${hard}.`;
    case 'chain_medium':
      return `Write an easier variant of this problem, keeping its core task: a medium problem that the student solves ${medium} of the time. It must stand alone.`;
    case 'chain_easy':
      return `Write an easier variant of this problem, keeping its core task: an easy problem that the student solves ${easy} of the time. It must stand alone.`;
  }
}

/** How an environment shows student attempts in the performance summary. */
export interface SummaryStyle {
  /** Fence language of an answer (`python` for code, `input` / `output` for literals). */
  answerLang: string;
  /** Truncate answers past this many characters (they are already cut to 1500 by the loader). */
  answerMax?: number;
  /** Rewrites the grader's failure text in the environment's terms. */
  failure?: (text: string) => string;
}

/** The previous problem (code, inputs with executed outputs, message) and its summary or feedback. */
export function previousSection(prev: PreviousProblem, style: SummaryStyle): string {
  const parts: string[] = ['## Previous problem'];
  if (prev.code !== null) parts.push(fence('python', truncate(prev.code, 4000)));
  prev.inputs.forEach((inp, i) => {
    parts.push(fence('input', truncate(inp, 500)));
    const out = prev.outputs?.[i];
    if (out !== undefined) parts.push(fence('output', truncate(out, 500)));
  });
  if (prev.message !== null) parts.push(fence('message', truncate(prev.message, 1000)));
  if (prev.invalidReason !== null) {
    parts.push('## Feedback', `Your previous problem was invalid: ${prev.invalidReason}`);
  } else if (prev.passRate !== null) {
    parts.push('## Student performance', `Pass rate: ${prev.passed}/${prev.attempts} (${prev.passRate.toFixed(2)})`);
    for (const ex of prev.examples) {
      const why = ex.failure === null ? null : (style.failure ?? ((s: string) => s))(ex.failure);
      parts.push(why === null ? 'A solved attempt:' : `A failed attempt (${why}):`);
      parts.push(fence(style.answerLang, style.answerMax === undefined ? ex.answer : truncate(ex.answer, style.answerMax)));
    }
  }
  return parts.join('\n\n');
}

export interface TeacherRequest {
  env: EnvName;
  /** The environment's rules (the text under `# Environment: <name>`). */
  rules: string;
  /** The `## Output format` section, heading included. */
  outputFormat: string;
  style: SummaryStyle;
}

/** Renders the teacher's request for one turn. */
export function teacherRequest(
  req: TeacherRequest,
  seedSnippet: string,
  instr: Instruction,
  prev: PreviousProblem | null,
  bins?: ChainBins,
): ChatMessage[] {
  const sections = [`# Environment: ${req.env}\n${req.rules}`, '## Seed', fence('seed', truncate(seedSnippet, 6000))];
  if (prev) sections.push(previousSection(prev, req.style));
  sections.push('## Instruction', instructionText(instr, prev?.passRate ?? null, req.env, bins), req.outputFormat);
  return [
    { role: 'system', content: TEACHER_SYSTEM },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

/** The student's request: the environment line and intro, its sections, then the answer format. */
export function studentRequest(env: EnvName, intro: string, sections: Array<[string, string]>, answerFormat: string): ChatMessage[] {
  const user = [
    `# Environment: ${env}`,
    intro,
    ...sections.flatMap(([heading, body]) => [`## ${heading}`, body]),
    '## Answer format',
    answerFormat,
  ].join('\n\n');
  return [
    { role: 'system', content: STUDENT_SYSTEM },
    { role: 'user', content: user },
  ];
}

/** The grader's failure texts for a single-input job, in words about "the answer". */
export function answerFailure(text: string, subject: string): string {
  const bad = /^input 1 raised bad input: (.*)$/s.exec(text);
  if (bad) return `the answer is not a Python literal (${bad[1]})`;
  const raised = /^input 1 raised (.*)$/s.exec(text);
  if (raised) return `${subject} raised ${raised[1]}`;
  if (text === 'input 1 timed out') return `${subject} timed out`;
  return text.replace(/\binput 1\b/g, 'the answer');
}

/** Shared checks on the teacher's inputs (non-empty, short enough to read). */
export function checkInputs(inputs: string[]): string | null {
  if (inputs.some((i) => i === '')) return 'An input block is empty.';
  const long = inputs.findIndex((i) => i.length > MAX_INPUT_CHARS);
  if (long >= 0)
    return `Input ${long + 1} is ${inputs[long]?.length} characters long; keep each input under ${MAX_INPUT_CHARS} characters.`;
  return null;
}
