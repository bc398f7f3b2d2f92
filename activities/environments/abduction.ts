/**
 * Abduction: the teacher writes `f` and ONE input i; the student sees `f` and o = f(i) (executed,
 * never the teacher's word) and answers an input. Reward 1 iff f(answer) == o, compared as
 * canonical values on the host (output-equivalence: any input giving o counts, not only i).
 *
 * One input per problem, by choice: the method's table says "one input", and a problem is one
 * question to the student. More (or fewer) input blocks are refused with a reason.
 */
import type { ChainBins } from '../../workflows/method/numbers';
import type { Instruction } from '../../workflows/contracts';
import { parseAnswerSync } from './answers-py';
import { fence } from './blocks';
import { teacherParts } from './lenient';
import { BANNED_MODULES, bannedImport } from './induction';
import { answerFailure, checkInputs, MAX_OUTPUT_CHARS, studentRequest, teacherRequest, type TeacherRequest } from './summary';
import type { ChatMessage, Environment, ExecutedProblem, ParseResult, PreviousProblem, ProblemText } from './environment';

const RULES = [
  'Write a deterministic Python function `f` that incorporates the core logic of the seed snippet below,',
  'and ONE input for it. A student will see your code and the output f returns on your input (never the',
  'input itself) and must find an input on which f returns exactly that output; any such input counts.',
  'The output is computed by running your code.',
  `Rules: no imports of ${BANNED_MODULES.slice(0, 8).join(', ')} or similar; no randomness, time or I/O;`,
  "the input is a Python-literal argument list (for example `[3, 1, 2], 2` or `'John', {'age': 20}`);",
  'choose an input whose output says something about it, so that finding an input takes reasoning about',
  `the code (not a constant function, not an output almost every input gives); keep the output under ${MAX_OUTPUT_CHARS} characters.`,
].join('\n');

const OUTPUT_FORMAT = [
  '## Output format',
  'One ```python block defining `f`, and exactly one ```input block (a Python-literal argument list).',
  'Nothing else is read. The problem must stand alone: do not refer to earlier problems.',
].join('\n');

/** The grader's failure texts, in abduction's terms. */
export function describeFailure(text: string): string {
  if (text === 'wrong output on input 1') return 'f(answer) is not the target output';
  return answerFailure(text, 'f on the answer');
}

const REQUEST: TeacherRequest = {
  env: 'abduction',
  rules: RULES,
  outputFormat: OUTPUT_FORMAT,
  style: { answerLang: 'input', answerMax: 500, failure: describeFailure },
};

export function teacherMessages(seedSnippet: string, instr: Instruction, prev: PreviousProblem | null, bins?: ChainBins): ChatMessage[] {
  return teacherRequest(REQUEST, seedSnippet, instr, prev, bins);
}

/**
 * The python block and input blocks of a teacher answer (abduction, deduction, fuzzing), with
 * reasons the teacher can act on. `functions` must be defined at top level. Message blocks are
 * ignored: these environments have no hint.
 */
export function parseCodeAndInputs(
  text: string,
  opts: { functions: string[]; minInputs: number; maxInputs: number },
): ParseResult<ProblemText> {
  const parts = teacherParts(text, opts);
  const inputs = parts.inputs;
  const fns = opts.functions.map((f) => `\`${f}\``).join(', ');
  if (parts.code === null && parts.codeBlocks === 0)
    return { ok: false, reason: `No \`\`\`python block found! Define ${fns} in one \`\`\`python block.` };
  if (inputs.length < opts.minInputs || inputs.length > opts.maxInputs) {
    const want = opts.minInputs === opts.maxInputs ? `exactly ${opts.minInputs}` : `between ${opts.minInputs} and ${opts.maxInputs}`;
    return { ok: false, reason: `Found ${inputs.length} input blocks; write ${want}.` };
  }
  if (parts.code === null) return { ok: false, reason: `The code does not define a top-level function \`${parts.missingFn}\`.` };
  const bad = checkInputs(inputs);
  if (bad) return { ok: false, reason: bad };
  const codeText = parts.code ?? '';
  for (const fn of opts.functions) {
    if (!new RegExp(`^def ${fn}\\s*\\(`, 'm').test(codeText))
      return { ok: false, reason: `The code does not define a top-level function \`${fn}\`.` };
  }
  const banned = bannedImport(codeText);
  if (banned) return { ok: false, reason: `The code imports \`${banned}\`, which is not allowed.` };
  if (/\b__cairn/.test(codeText)) return { ok: false, reason: 'Names starting with `__cairn` are reserved for the grader; rename them.' };
  return { ok: true, value: { code: codeText, inputs, message: null } };
}

export function parseTeacher(text: string): ParseResult<ProblemText> {
  return parseCodeAndInputs(text, { functions: ['f'], minInputs: 1, maxInputs: 1 });
}

/** The output must be short enough for the student to read. */
export function checkOutputs(p: ExecutedProblem): string | null {
  const o = p.outputs[0] ?? '';
  if (o.length > MAX_OUTPUT_CHARS) {
    return `The output is ${o.length} characters long; choose an input whose output has under ${MAX_OUTPUT_CHARS} characters.`;
  }
  return null;
}

export function studentMessages(code: string, output: string): ChatMessage[] {
  return studentRequest(
    'abduction',
    'Find an input on which the Python function `f` below returns exactly the given output. Any input that gives this output counts.',
    [
      ['Function', fence('python', code)],
      ['Output', fence('output', output)],
    ],
    [
      'One ```input block holding the arguments of the call `f(...)` as a Python-literal argument list: for example',
      "`[3, 1, 2], 2` for two arguments, or `'abc'` for one. Only literals (numbers, strings, lists, tuples, dicts,",
      'sets, True/False/None): no names, calls or expressions. Nothing else is read.',
    ].join('\n'),
  );
}

/** The student's input: the last ```input block (reasoning removed), as an argument list. */
/** The student's input: the last ```input block as an argument list (answers.py parse_student). */
export const parseStudent = (text: string): ParseResult<string> => parseAnswerSync('abduction', text);

export const abduction: Environment = {
  name: 'abduction',
  teacherMessages,
  parseTeacher,
  validation: (p) => ({ code: p.code, entry: 'f', inputs: p.inputs }),
  checkOutputs,
  studentMessages: (p) => studentMessages(p.code, p.outputs[0] ?? ''),
  parseStudent,
  // The answer is untrusted: the driver parses it with ast.literal_eval inside the sandbox (code in
  // it is refused there). Newlines let a trailing comment in the block not swallow the closing paren.
  gradeJob: (p, answer) => ({ code: p.code, entry: 'f', inputs: [`\n${answer}\n`], expected: [p.outputs[0] ?? ''] }),
};
