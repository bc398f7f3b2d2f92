/** Deduction: teacher parser and prompts, student parser, and value rewards through the real sandbox. */
import {
  checkOutputs,
  deduction,
  describeFailure,
  parseStudent,
  parseTeacher,
  studentMessages,
  teacherMessages,
  VALUE_CODE,
} from '../../activities/environments/deduction';
import type { ExecutedProblem, PreviousProblem, ProblemText } from '../../activities/environments/environment';
import { instructionText } from '../../activities/environments/summary';
import { compareOutcomes, createSandbox, type InputOutcome, type Sandbox } from '../../activities/sandbox';
import { loadConfig } from '../../workers/config/load-config';
import { tracked } from '../helpers/tracked-processes';

const CODE = [
  'def f(xs):',
  '    out = {}',
  '    for x in xs:',
  '        out.setdefault(x % 3, []).append(x)',
  '    return {k: (len(v), sum(v)) for k, v in out.items()}',
].join('\n');
const good = ['```python\n' + CODE + '\n```', '```input\n[4, 1, 3, 9, 7]\n```'].join('\n');

describe('deduction teacher parser and validity', () => {
  it('accepts f and one input', () => {
    expect(parseTeacher(good)).toEqual({ ok: true, value: { code: CODE, inputs: ['[4, 1, 3, 9, 7]'], message: null } });
  });

  it.each([
    [good.replace(/```input[\s\S]*$/, ''), 'Found 0 input blocks; write exactly 1.'],
    [good + '\n```input\n[1]\n```', 'Found 2 input blocks'],
    [good.replace('def f(', 'from os import path\ndef f('), 'imports `os`'],
    [good.replace('def f(xs)', 'def solve(xs)'), 'top-level function `f`'],
    [good.replace('[4, 1, 3, 9, 7]', ''), 'An input block is empty.'],
  ])('rejects a bad problem with a reason (%#)', (text, reason) => {
    const r = parseTeacher(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it.each([
    ["float('nan')", 'nan or infinity'],
    ["[1.0, float('-inf')]", 'nan or infinity'],
    ['frozenset({1, 2})', 'frozenset'],
    [`'${'x'.repeat(2100)}'`, 'characters long'],
  ])('refuses outputs no literal can express or nobody can write (%s)', (out, reason) => {
    expect(checkOutputs({ code: CODE, inputs: ['1'], outputs: [out], message: null })).toContain(reason);
  });

  it('accepts ordinary outputs, sets and empty sets included', () => {
    for (const out of ['{0: (2, 12), 1: (3, 12)}', '{1, 2}', 'set()', "b'ab'", 'None', '-0.5']) {
      expect(checkOutputs({ code: CODE, inputs: ['1'], outputs: [out], message: null })).toBeNull();
    }
  });
});

describe('deduction prompts', () => {
  it('turn 1 and refinement carry the protocol headings; attempts are shown as outputs', () => {
    const first = teacherMessages('seed', 'initial', null)[1]?.content ?? '';
    expect(first).toMatch(/^# Environment: deduction\n/);
    expect(first).toContain('no nan or infinity');
    const prev: PreviousProblem = {
      code: CODE,
      inputs: ['[4, 1, 3, 9, 7]'],
      outputs: ['{0: (2, 12), 1: (3, 12)}'],
      message: null,
      passRate: 1,
      attempts: 4,
      passed: 4,
      invalidReason: null,
      examples: [
        { answer: '{0: (2, 12), 1: (3, 12)}', failure: null },
        { answer: '{0: [2, 12]}', failure: 'wrong output on input 1' },
      ],
    };
    const u = teacherMessages('seed', 'harder_weak_tests', prev)[1]?.content ?? '';
    expect(u).toContain('```input\n[4, 1, 3, 9, 7]\n```\n\n```output\n{0: (2, 12), 1: (3, 12)}\n```');
    expect(u).toContain('Pass rate: 4/4 (1.00)');
    expect(u).toContain('A failed attempt (the value differs from what f returns):\n\n```output\n{0: [2, 12]}\n```');
    expect(u).toContain(instructionText('harder_weak_tests', 1, 'deduction'));
    expect(u).toMatch(/## Instruction\n\n.*harder/);
  });

  it('the student sees f and the input, and is told types count', () => {
    const u = studentMessages(CODE, '[4, 1, 3, 9, 7]')[1]?.content ?? '';
    expect(u).toMatch(/^# Environment: deduction\n/);
    expect(u).toContain('## Function\n\n```python\n' + CODE + '\n```');
    expect(u).toContain('## Input\n\n```input\n[4, 1, 3, 9, 7]\n```');
    expect(u).toContain('## Answer format\n\nOne ```output block');
    expect(u).toContain('Types count');
  });

  it('reads the last output block; refuses a missing one', () => {
    expect(parseStudent('<think>```output\n0\n```</think>```output\n{1: 2}\n```')).toEqual({ ok: true, value: '{1: 2}' });
    expect(parseStudent('```\n5\n```')).toEqual({ ok: true, value: '5' });
    expect(parseStudent('It returns 5.')).toEqual({ ok: false, reason: 'no ```output block in the answer' });
  });
});

describe('deduction rewards through the sandbox', () => {
  let sb: Sandbox;
  let problem: ExecutedProblem;

  async function execute(p: ProblemText): Promise<ExecutedProblem> {
    const r = await sb.run({ ...deduction.validation(p), timeLimitMs: 1000 });
    expect(r.outcomes.map((o) => o.status)).toEqual(['ok']);
    return { ...p, outputs: r.outcomes.map((o) => o.out ?? '') };
  }

  async function grade(p: ExecutedProblem, raw: string): Promise<{ pass: boolean; outcome: InputOutcome | undefined }> {
    const parsed = parseStudent('```output\n' + raw + '\n```');
    if (!parsed.ok) return { pass: false, outcome: undefined };
    const job = deduction.gradeJob(p, parsed.value);
    // The answer never becomes code: it only travels as the identity's argument.
    expect(job.code).toBe(VALUE_CODE);
    const r = await sb.run({ code: job.code, entry: job.entry, inputs: job.inputs, timeLimitMs: 1000 });
    return { pass: compareOutcomes(r.outcomes, job.expected).pass, outcome: r.outcomes[0] };
  }

  beforeAll(async () => {
    sb = tracked('sandbox', await createSandbox({ stateDir: loadConfig().sandbox.stateDir }), 'close');
    problem = await execute({ code: CODE, inputs: ['[4, 1, 3, 9, 7]'], message: null });
  }, 30_000);
  afterAll(async () => {
    await sb.close();
  });

  it('the expected value comes from execution, in canonical form', () => {
    expect(problem.outputs).toEqual(['{0: (2, 12), 1: (3, 12)}']);
  });

  it.each([
    ['the canonical text', '{0: (2, 12), 1: (3, 12)}'],
    ['another key order (values, not text)', '{1: (3, 12), 0: (2, 12)}'],
    ['other spacing over several lines with a comment', '{\n  1: (3,12),   # the ones\n  0: (2,12)\n}'],
  ])('rewards %s', async (_what, answer) => {
    expect((await grade(problem, answer)).pass).toBe(true);
  });

  it.each([
    ['an off-by-one value', '{0: (2, 12), 1: (3, 13)}', 'ok'],
    ['lists for tuples', '{0: [2, 12], 1: [3, 12]}', 'ok'],
    ['a float for an int', '{0: (2.0, 12), 1: (3, 12)}', 'ok'],
    ['bools for int keys (equal in Python, not the same value here)', '{False: (2, 12), True: (3, 12)}', 'ok'],
    ['a missing key', '{0: (2, 12)}', 'ok'],
    ['the call itself', 'f([4, 1, 3, 9, 7])', 'error'],
    ['an expression', '{0: (2, 12), 1: (3, 6 + 6)}', 'error'],
    ['code', "__import__('os').system('touch /tmp/cairn-pwned')", 'error'],
    ['an object that equals anything', "type('X', (), {'__eq__': lambda s, o: True})()", 'error'],
    ["float('nan')", "float('nan')", 'error'],
    ['infinity via an overflowing literal', '1e999', 'ok'],
    ['a paren break-out adding an argument', '1), (2', 'error'],
    ['a paren break-out that does not parse', '{0: (2, 12)}), ({1: (3, 12)}', 'error'],
  ])('refuses %s', async (_what, answer, status) => {
    const g = await grade(problem, answer);
    expect(g.pass).toBe(false);
    expect(g.outcome?.status).toBe(status);
  });

  it('a bare tuple reads as a tuple, sets compare as sets, and None as None', async () => {
    const tuple = await execute({ code: 'def f(a, b):\n    return b, a\n', inputs: ['1, 2'], message: null });
    expect(tuple.outputs).toEqual(['(2, 1)']);
    expect((await grade(tuple, '2, 1')).pass).toBe(true);
    expect((await grade(tuple, '(2, 1)')).pass).toBe(true);
    expect((await grade(tuple, '[2, 1]')).pass).toBe(false);
    const sets = await execute({ code: 'def f(xs):\n    return set(xs), set()\n', inputs: ["['b', 'a', 'b']"], message: null });
    expect((await grade(sets, "{'a', 'b'}, set()")).pass).toBe(true);
    const none = await execute({ code: 'def f(x):\n    return None\n', inputs: ['1'], message: null });
    expect((await grade(none, 'None')).pass).toBe(true);
    expect((await grade(none, "'None'")).pass).toBe(false);
  });

  it('a nan-returning f is refused at validation, so no answer has to match nan', async () => {
    const nan = await execute({ code: "def f(x):\n    return float('nan')\n", inputs: ['1'], message: null });
    expect(deduction.checkOutputs(nan)).toMatch(/nan/);
  });

  it('describes failures in deduction terms', () => {
    expect(describeFailure('wrong output on input 1')).toBe('the value differs from what f returns');
    expect(describeFailure('input 1 raised bad input: ValueError: malformed node or string')).toBe(
      'the answer is not a Python literal (ValueError: malformed node or string)',
    );
  });
});
