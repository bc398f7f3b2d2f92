/**
 * Deduction: the teacher writes `f` and ONE input i; the student sees `f` and i and answers the
 * output as a Python literal. Reward 1 iff the value equals f(i) (executed).
 *
 * Values, not text: the answer goes into the sandbox as the argument of an identity function, so
 * it is parsed there by ast.literal_eval (never evaluated: code in it is refused) and canonicalized
 * exactly like f's return value; the host compares the two canonical strings. So `{'b': 1, 'a': 2}`
 * equals `{'a': 2, 'b': 1}` and a bare `1, 2` is the tuple (1, 2), as in Python, while types
 * count: 1, 1.0 and True are three different answers (the canonical form keeps exact types).
 * Outputs no literal can express (nan, inf, frozenset) make a problem invalid.
 */
import type { ChainBins } from '../../workflows/method/numbers';
import type { Instruction } from '../../workflows/contracts';
import { parseAnswerSync } from './answers-py';
import { fence } from './blocks';
import { parseCodeAndInputs } from './abduction';
import { BANNED_MODULES } from './induction';
import { answerFailure, MAX_OUTPUT_CHARS, studentRequest, teacherRequest, type TeacherRequest } from './summary';
import type { ChatMessage, Environment, ExecutedProblem, ParseResult, PreviousProblem, ProblemText } from './environment';

/** The identity function that canonicalizes the student's literal inside the sandbox. */
export const VALUE_ENTRY = '__cairn_value';
export const VALUE_CODE = `def ${VALUE_ENTRY}(x):\n    return x\n`;

const RULES = [
  'Write a deterministic Python function `f` that incorporates the core logic of the seed snippet below,',
  'and ONE input for it. A student will see your code and the input and must predict the value f returns;',
  'the expected value is computed by running your code.',
  `Rules: no imports of ${BANNED_MODULES.slice(0, 8).join(', ')} or similar; no randomness, time or I/O;`,
  "the input is a Python-literal argument list (for example `[3, 1, 2], 2` or `'John', {'age': 20}`);",
  'f must return a value a Python literal can write (numbers, strings, lists, tuples, dicts, sets, booleans,',
  `None; no nan or infinity, no objects), under ${MAX_OUTPUT_CHARS} characters.`,
].join('\n');

const OUTPUT_FORMAT = [
  '## Output format',
  'One ```python block defining `f`, and exactly one ```input block (a Python-literal argument list).',
  'Nothing else is read. The problem must stand alone: do not refer to earlier problems.',
].join('\n');

export function describeFailure(text: string): string {
  if (text === 'wrong output on input 1') return 'the value differs from what f returns';
  if (text === 'input 1 produced too large an output') return 'the answer is too large';
  return answerFailure(text, 'reading the answer');
}

const REQUEST: TeacherRequest = {
  env: 'deduction',
  rules: RULES,
  outputFormat: OUTPUT_FORMAT,
  style: { answerLang: 'output', answerMax: 500, failure: describeFailure },
};

export function teacherMessages(seedSnippet: string, instr: Instruction, prev: PreviousProblem | null, bins?: ChainBins): ChatMessage[] {
  return teacherRequest(REQUEST, seedSnippet, instr, prev, bins);
}

export function parseTeacher(text: string): ParseResult<ProblemText> {
  return parseCodeAndInputs(text, { functions: ['f'], minInputs: 1, maxInputs: 1 });
}

/**
 * The student must be able to write the output as a literal: canonical forms that are not
 * literals (float('nan'), float('inf'), frozenset(...)) are refused, and so are long outputs.
 * (A string output that merely contains such text is refused too: rare, and the teacher can vary.)
 */
export function checkOutputs(p: ExecutedProblem): string | null {
  const o = p.outputs[0] ?? '';
  if (/float\('(?:nan|inf|-inf)'\)/.test(o)) {
    return 'f returns nan or infinity, which no Python literal can express; make f return finite values.';
  }
  if (o.includes('frozenset(')) return 'f returns a frozenset, which no Python literal can express; return a set, list or tuple.';
  if (o.length > MAX_OUTPUT_CHARS) {
    return `The output is ${o.length} characters long; choose f and an input whose output has under ${MAX_OUTPUT_CHARS} characters.`;
  }
  return null;
}

export function studentMessages(code: string, input: string): ChatMessage[] {
  return studentRequest(
    'deduction',
    'Work out the value the Python function `f` below returns when it is called with the given input (an argument list: `f(<input>)`).',
    [
      ['Function', fence('python', code)],
      ['Input', fence('input', input)],
    ],
    [
      "One ```output block holding the returned value as a Python literal: for example `[1, 2]`, `'abc'`, `{'a': 1}`,",
      '`(3, True)` or `None`. Types count: `1`, `1.0` and `True` are different answers. Nothing else is read.',
    ].join('\n'),
  );
}

/** The student's value: the last ```output block (reasoning removed; answers.py parse_student). */
export function parseStudent(text: string): ParseResult<string> {
  return parseAnswerSync('deduction', text);
}

export const deduction: Environment = {
  name: 'deduction',
  teacherMessages,
  parseTeacher,
  validation: (p) => ({ code: p.code, entry: 'f', inputs: p.inputs }),
  checkOutputs,
  studentMessages: (p) => studentMessages(p.code, p.inputs[0] ?? ''),
  parseStudent,
  // The answer is one argument: parenthesised (so `1, 2` is a tuple and stays one argument; a
  // `), (` in it can only add arguments, which the one-parameter identity refuses), with newlines
  // so a trailing comment cannot swallow the closing paren.
  gradeJob: (p, answer) => ({ code: VALUE_CODE, entry: VALUE_ENTRY, inputs: [`(\n${answer}\n)`], expected: [p.outputs[0] ?? ''] }),
};
