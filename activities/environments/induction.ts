/**
 * Induction: the teacher writes `f`, 5 inputs and a hint; the student sees the hint and some
 * input/output pairs and must write `f`. Reward 1 iff the student's f matches on every input.
 */
import type { ChainBins } from '../../workflows/method/numbers';
import type { Instruction } from '../../workflows/contracts';
import { parseAnswerSync } from './answers-py';
import { fence } from './blocks';
import { teacherParts } from './lenient';
import { instructionText, STUDENT_SYSTEM, teacherRequest, type TeacherRequest } from './summary';
import type { ChatMessage, Environment, ExecutedProblem, ParseResult, PreviousProblem, ProblemText } from './environment';

export type { ChatMessage, PreviousProblem, ParseResult };
export { instructionText };

export const INPUTS_PER_PROBLEM = 5;
/** Imports a problem may not use (method.md: Absolute Zero's checks). */
export const BANNED_MODULES = [
  'os',
  'sys',
  'subprocess',
  'random',
  'time',
  'datetime',
  'threading',
  'multiprocessing',
  'socket',
  'shutil',
  'pathlib',
  'signal',
  'ctypes',
  'asyncio',
  'importlib',
  'builtins',
  'gc',
  'inspect',
  'secrets',
  'uuid',
];

const RULES = [
  'Write a deterministic Python function `f` that incorporates the core logic of the seed snippet below,',
  `then ${INPUTS_PER_PROBLEM} inputs for it and a message. A student will see the message and some of the`,
  'input/output pairs (never your code) and must write `f`. Outputs are computed by running your code.',
  `Rules: no imports of ${BANNED_MODULES.slice(0, 8).join(', ')} or similar; no randomness, time or I/O;`,
  "each input is a Python-literal argument list (for example `[3, 1, 2], 2` or `'John', {'age': 20}`);",
  'inputs should give diverse outputs; the message is a hint that must not contain the code.',
].join('\n');

const OUTPUT_FORMAT = [
  '## Output format',
  'One ```python block defining `f`, exactly ' + INPUTS_PER_PROBLEM + ' ```input blocks (each a Python-literal argument list),',
  'and one ```message block. Nothing else is read. The problem must stand alone: do not refer to earlier problems.',
].join('\n');

const REQUEST: TeacherRequest = { env: 'induction', rules: RULES, outputFormat: OUTPUT_FORMAT, style: { answerLang: 'python' } };

/** Renders the teacher's request for one turn. */
export function teacherMessages(seedSnippet: string, instr: Instruction, prev: PreviousProblem | null, bins?: ChainBins): ChatMessage[] {
  return teacherRequest(REQUEST, seedSnippet, instr, prev, bins);
}

/** Parses the teacher's blocks (read leniently: lenient.ts); the reason goes back to the teacher next turn. */
export function parseTeacher(text: string): ParseResult<ProblemText> {
  const parts = teacherParts(text, { functions: ['f'], minInputs: INPUTS_PER_PROBLEM, maxInputs: INPUTS_PER_PROBLEM });
  const { inputs, message } = parts;
  if (parts.code === null && parts.codeBlocks === 0)
    return { ok: false, reason: 'No ```python block found! Define `f` in one ```python block.' };
  if (parts.code === null) return { ok: false, reason: 'The code does not define a top-level function `f`.' };
  if (message === null) return { ok: false, reason: 'No message found! Make sure to correctly format the message.' };
  if (inputs.length !== INPUTS_PER_PROBLEM) {
    return { ok: false, reason: `Found ${inputs.length} input blocks; write exactly ${INPUTS_PER_PROBLEM}.` };
  }
  if (inputs.some((i) => i === '')) return { ok: false, reason: 'An input block is empty.' };
  const codeText = parts.code;
  const banned = bannedImport(codeText);
  if (banned) return { ok: false, reason: `The code imports \`${banned}\`, which is not allowed.` };
  if (message === '') return { ok: false, reason: 'The message is empty.' };
  if (message.includes(codeText.trim())) return { ok: false, reason: 'The message contains the code.' };
  return { ok: true, value: { code: codeText, inputs, message } };
}

/** The first banned module the code imports, or null. A textual check; the sandbox contains the rest. */
export function bannedImport(code: string): string | null {
  const re = /^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w., ]+))|__import__\s*\(\s*['"]([\w.]+)/gm;
  for (const m of code.matchAll(re)) {
    const names = (m[1] ?? m[2] ?? m[3] ?? '').split(',').map((s) => s.trim().split(/\s+/)[0]?.split('.')[0] ?? '');
    const bad = names.find((n) => BANNED_MODULES.includes(n));
    if (bad) return bad;
  }
  return null;
}

/** Which pairs the student sees: the first `visible` (the rest stay hidden, as in Absolute Zero). */
export function studentMessages(message: string, inputs: string[], outputs: string[], visible: number): ChatMessage[] {
  const pairs = inputs.slice(0, visible).map((inp, i) => `${fence('input', inp)}\n${fence('output', outputs[i] ?? '')}`);
  const user = [
    '# Environment: induction',
    'Write a Python function `f` that maps each input (an argument list) to its output. It will be',
    'tested on these examples and on hidden ones.',
    '## Message',
    message,
    '## Examples',
    pairs.join('\n\n'),
    '## Answer format',
    'One ```python block defining `f`. Nothing else is read.',
  ].join('\n\n');
  return [
    { role: 'system', content: STUDENT_SYSTEM },
    { role: 'user', content: user },
  ];
}

/** The student's code: the last ```python block after reasoning is removed (answers.py parse_student). */
export function parseStudent(text: string): ParseResult<string> {
  return parseAnswerSync('induction', text);
}

/** The minimum number of distinct outputs: fewer and a constant function would pass. */
export const MIN_DISTINCT_OUTPUTS = 2;

export const induction: Environment = {
  name: 'induction',
  teacherMessages,
  parseTeacher,
  validation: (p) => ({ code: p.code, entry: 'f', inputs: p.inputs }),
  checkOutputs: (p: ExecutedProblem) =>
    new Set(p.outputs).size < MIN_DISTINCT_OUTPUTS
      ? `The tests are too weak: the inputs give fewer than ${MIN_DISTINCT_OUTPUTS} distinct outputs. Choose inputs with diverse outputs.`
      : null,
  studentMessages: (p, { visiblePairs }) => studentMessages(p.message ?? '', p.inputs, p.outputs, visiblePairs),
  parseStudent,
  // Reward 1 iff the student's f gives the executed output on every input, hidden ones included.
  gradeJob: (p, answer) => ({ code: answer, entry: 'f', inputs: p.inputs, expected: p.outputs }),
};
