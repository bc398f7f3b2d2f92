/**
 * Fuzzing: the teacher writes `f` (with a flaw), a type check `pre_test_f` and a test `test_f`
 * (same arguments as f), plus 1-5 example inputs on which pre_test_f returns True and test_f
 * returns True (they show the harness works). The student sees all three functions and the
 * examples and answers an input. Reward 1 iff pre_test_f(x) returns True and test_f(x) fails.
 *
 * Exact rules (the grader's wrapper below is the definition):
 * - "holds" means pre_test_f returns exactly True; if it raises or returns anything else, no reward
 *   (an input that breaks the type check is not a valid input);
 * - "fails" means test_f raises an exception or returns anything but True;
 * - resource exhaustion never counts: a time-out, MemoryError or RecursionError anywhere is a
 *   failed attempt (it depends on the machine, not on f's logic, and a huge literal must not win);
 * - every call gets a deep copy of the arguments, so pre_test_f mutating them cannot steer test_f;
 * - the answer is parsed by ast.literal_eval inside the sandbox, so code in it is refused, and it
 *   is capped at answers.py MAX_LITERAL_ANSWER characters before that.
 * When no reward is earned the wrapper raises CairnReject with the reason, which the grader
 * records as the failure and the teacher sees in its summary.
 */
import type { ChainBins } from '../../workflows/method/numbers';
import type { Instruction } from '../../workflows/contracts';
import { parseAnswerSync } from './answers-py';
import { fence } from './blocks';
import { parseCodeAndInputs } from './abduction';
import { BANNED_MODULES } from './induction';
import { answerFailure, studentRequest, teacherRequest, type TeacherRequest } from './summary';
import type { ChatMessage, Environment, ParseResult, PreviousProblem, ProblemText } from './environment';

export const MAX_EXAMPLE_INPUTS = 5;
export const VALIDATE_ENTRY = '__cairn_validate';
export const GRADE_ENTRY = '__cairn_fuzz';

const PRELUDE = [
  '',
  '',
  '# ---- appended by Cairn (not part of the problem) ----',
  'import copy as __cairn_copy',
  '',
  '',
  'class CairnReject(Exception):',
  '    """Why an answer earns no reward."""',
  '',
  '',
].join('\n');

/** Validation: the example must be valid and pass; the recorded output is f's. */
const VALIDATE = [
  `def ${VALIDATE_ENTRY}(*args):`,
  '    if pre_test_f(*__cairn_copy.deepcopy(args)) is not True:',
  "        raise AssertionError('pre_test_f does not return True on this input')",
  '    if test_f(*__cairn_copy.deepcopy(args)) is not True:',
  "        raise AssertionError('test_f does not return True on this input')",
  '    return f(*__cairn_copy.deepcopy(args))',
  '',
].join('\n');

/** Grading: True exactly when pre_test_f holds and test_f fails; otherwise raises with the reason. */
const GRADE = [
  `def ${GRADE_ENTRY}(*args):`,
  '    try:',
  '        valid = pre_test_f(*__cairn_copy.deepcopy(args))',
  '    except (MemoryError, RecursionError):',
  '        raise',
  '    except Exception as e:',
  "        raise CairnReject('pre_test_f raised %s on the answer, so it is not a valid input' % type(e).__name__) from None",
  '    if valid is not True:',
  "        raise CairnReject('pre_test_f did not return True on the answer, so it is not a valid input')",
  '    try:',
  '        passed = test_f(*__cairn_copy.deepcopy(args))',
  '    except (MemoryError, RecursionError):',
  '        raise',
  '    except Exception:',
  '        return True',
  '    if passed is True:',
  "        raise CairnReject('test_f passed on the answer: no failure found')",
  '    return True',
  '',
].join('\n');

export function validationCode(code: string): string {
  return code.trimEnd() + '\n' + PRELUDE + VALIDATE;
}

export function gradingCode(code: string): string {
  return code.trimEnd() + '\n' + PRELUDE + GRADE;
}

const RULES = [
  'Write a deterministic Python function `f` that incorporates the core logic of the seed snippet below',
  'and has a flaw, a type check `pre_test_f` and a test `test_f`. All three take the same arguments.',
  '`pre_test_f` returns True exactly for valid inputs (the types, and if needed the sizes, f is meant for),',
  'else False. `test_f` returns True when f behaves correctly on the input (for example by comparing it with',
  'a correct reference implementation, or by checking a property), else False. A student will see all three',
  'functions and your example inputs and must find a valid input on which test_f fails (returns anything',
  'but True, or raises). Also give 1 to ' + MAX_EXAMPLE_INPUTS + ' example inputs on which pre_test_f and test_f both return True.',
  `Rules: no imports of ${BANNED_MODULES.slice(0, 8).join(', ')} or similar; no randomness, time or I/O;`,
  "each input is a Python-literal argument list (for example `[3, 1, 2], 2` or `'John', {'age': 20}`);",
  'some valid input must make test_f fail, and finding one should take reasoning about the code.',
].join('\n');

const OUTPUT_FORMAT = [
  '## Output format',
  'One ```python block defining `f`, `pre_test_f` and `test_f` (helpers are allowed), and 1 to ' + MAX_EXAMPLE_INPUTS + ' ```input blocks,',
  'each a Python-literal argument list on which pre_test_f and test_f return True.',
  'Nothing else is read. The problem must stand alone: do not refer to earlier problems.',
].join('\n');

export function describeFailure(text: string): string {
  const reject = /^input 1 raised CairnReject: (.*)$/s.exec(text);
  if (reject) return reject[1] ?? text;
  if (text === 'input 1 timed out') return 'the test timed out on the answer (time-outs do not count)';
  return answerFailure(text, 'the test on the answer');
}

const REQUEST: TeacherRequest = {
  env: 'fuzzing',
  rules: RULES,
  outputFormat: OUTPUT_FORMAT,
  style: { answerLang: 'input', answerMax: 500, failure: describeFailure },
};

export function teacherMessages(seedSnippet: string, instr: Instruction, prev: PreviousProblem | null, bins?: ChainBins): ChatMessage[] {
  return teacherRequest(REQUEST, seedSnippet, instr, prev, bins);
}

export function parseTeacher(text: string): ParseResult<ProblemText> {
  return parseCodeAndInputs(text, { functions: ['f', 'pre_test_f', 'test_f'], minInputs: 1, maxInputs: MAX_EXAMPLE_INPUTS });
}

export function studentMessages(code: string, inputs: string[], outputs: string[]): ChatMessage[] {
  const examples = inputs.map((inp, i) => `${fence('input', inp)}\n${fence('output', outputs[i] ?? '')}`).join('\n\n');
  return studentRequest(
    'fuzzing',
    [
      'The function `f` below may be flawed. `pre_test_f` says which inputs are valid and `test_f` checks f on one input.',
      'Find a valid input on which the test fails: `pre_test_f(<input>)` returns True and `test_f(<input>)` returns',
      'anything but True, or raises. Time-outs and running out of memory or recursion depth do not count.',
    ].join('\n'),
    [
      ['Code', fence('python', code)],
      ['Passing inputs', `These valid inputs pass the test (with what f returns):\n\n${examples}`],
    ],
    [
      'One ```input block holding the arguments as a Python-literal argument list (the same arguments for `f`,',
      "`pre_test_f` and `test_f`): for example `[3, 1, 2], 2` for two arguments, or `'abc'` for one. Only literals:",
      'no names, calls or expressions. Nothing else is read.',
    ].join('\n'),
  );
}

/** The student's input: the last ```input block as an argument list (answers.py parse_student). */
export const parseStudent = (text: string): ParseResult<string> => parseAnswerSync('fuzzing', text);

export const fuzzing: Environment = {
  name: 'fuzzing',
  teacherMessages,
  parseTeacher,
  validation: (p) => ({ code: validationCode(p.code), entry: VALIDATE_ENTRY, inputs: p.inputs }),
  checkOutputs: () => null,
  studentMessages: (p) => studentMessages(p.code, p.inputs, p.outputs),
  parseStudent,
  gradeJob: (p, answer) => ({ code: gradingCode(p.code), entry: GRADE_ENTRY, inputs: [`\n${answer}\n`], expected: ['True'] }),
};
