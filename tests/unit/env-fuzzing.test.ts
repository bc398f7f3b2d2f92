/** Fuzzing: teacher parser and prompts, the validation harness, and rewards through the real sandbox. */
import {
  describeFailure,
  fuzzing,
  GRADE_ENTRY,
  parseStudent,
  parseTeacher,
  studentMessages,
  teacherMessages,
  VALIDATE_ENTRY,
} from '../../activities/environments/fuzzing';
import type { ExecutedProblem, PreviousProblem, ProblemText } from '../../activities/environments/environment';
import { instructionText } from '../../activities/environments/summary';
import { compareOutcomes, createSandbox, type InputOutcome, type Sandbox } from '../../activities/sandbox';
import { loadConfig } from '../../workers/config/load-config';
import { tracked } from '../helpers/tracked-processes';

/** Second largest distinct value; the flaw: duplicates of the maximum are not skipped. */
const CODE = [
  'def f(xs):',
  '    vals = sorted(xs)',
  '    return vals[-2] if len(vals) > 1 else None',
  '',
  '',
  'def reference_f(xs):',
  '    vals = sorted(set(xs))',
  '    return vals[-2] if len(vals) > 1 else None',
  '',
  '',
  'def pre_test_f(xs):',
  '    # len() first: a non-list input makes this raise, which must not count as a found failure',
  '    return len(xs) <= 20 and type(xs) is list and all(type(x) is int for x in xs)',
  '',
  '',
  'def test_f(xs):',
  '    return f(xs) == reference_f(xs)',
].join('\n');
const good = ['```python\n' + CODE + '\n```', '```input\n[1, 5, 3]\n```', '```input\n[]\n```'].join('\n');

describe('fuzzing teacher parser', () => {
  it('accepts the three functions and 1-5 passing inputs', () => {
    expect(parseTeacher(good)).toEqual({ ok: true, value: { code: CODE, inputs: ['[1, 5, 3]', '[]'], message: null } });
  });

  it.each([
    [good.replace('def pre_test_f(', 'def pre_test(').replace('def test_f(', 'def check('), 'top-level function `pre_test_f`'],
    [good.replace('def test_f(', 'def check('), 'top-level function `test_f`'],
    [good.replace(/```input[\s\S]*$/, ''), 'Found 0 input blocks; write between 1 and 5.'],
    [good + '\n```input\n[1]\n```'.repeat(4), 'Found 6 input blocks; write between 1 and 5.'],
    [good.replace('def f(', 'import random\ndef f('), 'imports `random`'],
    [good.replace('def test_f(xs):', 'def test_f(xs):\n    __cairn_fuzz = 1'), 'reserved for the grader'],
  ])('rejects a bad problem with a reason (%#)', (text, reason) => {
    const r = parseTeacher(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

describe('fuzzing prompts', () => {
  it('the teacher is told all three functions and the passing examples; summaries explain failures', () => {
    const first = teacherMessages('seed', 'initial', null)[1]?.content ?? '';
    expect(first).toMatch(/^# Environment: fuzzing\n/);
    expect(first).toContain('`pre_test_f` and `test_f`');
    const prev: PreviousProblem = {
      code: CODE,
      inputs: ['[1, 5, 3]'],
      outputs: ['3'],
      message: null,
      passRate: 1,
      attempts: 2,
      passed: 2,
      invalidReason: null,
      examples: [
        { answer: '[5, 5]', failure: null },
        {
          answer: "['a']",
          failure: 'input 1 raised CairnReject: pre_test_f did not return True on the answer, so it is not a valid input',
        },
      ],
    };
    const u = teacherMessages('seed', 'harder_weak_tests', prev)[1]?.content ?? '';
    expect(u).toContain(
      "A failed attempt (pre_test_f did not return True on the answer, so it is not a valid input):\n\n```input\n['a']\n```",
    );
    expect(u).toContain(instructionText('harder_weak_tests', 1, 'fuzzing'));
    expect(instructionText('harder_weak_tests', 1, 'fuzzing')).toMatch(/pre_test_f is too loose/);
    expect(instructionText('easier', 0, 'fuzzing')).toMatch(/some valid input makes test_f fail/);
  });

  it('the student sees the code and the passing inputs with their outputs', () => {
    const u = studentMessages(CODE, ['[1, 5, 3]'], ['3'])[1]?.content ?? '';
    expect(u).toMatch(/^# Environment: fuzzing\n/);
    expect(u).toContain('## Code\n\n```python\n' + CODE + '\n```');
    expect(u).toContain('## Passing inputs');
    expect(u).toContain('```input\n[1, 5, 3]\n```\n```output\n3\n```');
    expect(u).toContain('## Answer format');
  });

  it('reads the answer like abduction', () => {
    expect(parseStudent('```input\nf([5, 5, 1])\n```')).toEqual({ ok: true, value: '[5, 5, 1]' });
    expect(parseStudent('nothing')).toEqual({ ok: false, reason: 'no ```input block in the answer' });
  });
});

describe('fuzzing through the sandbox', () => {
  let sb: Sandbox;

  async function validate(p: ProblemText): Promise<InputOutcome[]> {
    const v = fuzzing.validation(p);
    expect(v.entry).toBe(VALIDATE_ENTRY);
    return (await sb.run({ ...v, timeLimitMs: 1000 })).outcomes;
  }

  async function grade(p: ExecutedProblem, raw: string, timeLimitMs = 1000): Promise<{ pass: boolean; outcome: InputOutcome | undefined }> {
    const parsed = parseStudent('```input\n' + raw + '\n```');
    if (!parsed.ok) return { pass: false, outcome: undefined };
    const job = fuzzing.gradeJob(p, parsed.value);
    expect(job.entry).toBe(GRADE_ENTRY);
    expect(job.expected).toEqual(['True']);
    const r = await sb.run({ code: job.code, entry: job.entry, inputs: job.inputs, timeLimitMs });
    return { pass: compareOutcomes(r.outcomes, job.expected).pass, outcome: r.outcomes[0] };
  }

  const problem: ExecutedProblem = { code: CODE, inputs: ['[1, 5, 3]'], outputs: ['3'], message: null };

  beforeAll(async () => {
    sb = tracked('sandbox', await createSandbox({ stateDir: loadConfig().sandbox.stateDir }), 'close');
  }, 30_000);
  afterAll(async () => {
    await sb.close();
  });

  it("validation records f's outputs on passing examples and names the check an example breaks", async () => {
    const ok = await validate({ code: CODE, inputs: ['[1, 5, 3]', '[]'], message: null });
    expect(ok.map((o) => [o.status, o.out])).toEqual([
      ['ok', '3'],
      ['ok', 'None'],
    ]);
    const [notValid, fails] = await validate({ code: CODE, inputs: ["['a', 'b']", '[5, 5, 1]'], message: null });
    expect(notValid?.error).toBe('AssertionError: pre_test_f does not return True on this input');
    expect(fails?.error).toBe('AssertionError: test_f does not return True on this input');
  });

  it('rewards a valid input on which the test fails', async () => {
    expect(await grade(problem, '[5, 5, 1]')).toMatchObject({ pass: true, outcome: { status: 'ok', out: 'True' } });
  });

  it.each([
    ['a valid input on which the test passes', '[1, 2, 3]', 'test_f passed on the answer: no failure found'],
    ['an input pre_test_f rejects', "['b', 'b', 'a']", 'pre_test_f did not return True'],
    ['an input that makes pre_test_f raise', '5', 'pre_test_f raised TypeError'],
    ['an input too long for pre_test_f', `[${'7, '.repeat(25)}1]`, 'pre_test_f did not return True'],
    ['code instead of a literal', "__import__('os').system('touch /tmp/cairn-pwned')", 'bad input'],
    ['an expression', '[5] * 2 + [1]', 'bad input'],
    ['too many arguments', '[5, 5, 1], 2', 'pre_test_f raised TypeError'],
  ])('refuses %s, saying why', async (_what, answer, why) => {
    const g = await grade(problem, answer);
    expect(g.pass).toBe(false);
    expect(g.outcome?.error).toContain(why);
  });

  it('a test that raises on a valid input counts as a failure found', async () => {
    const mean = {
      code: 'def f(xs):\n    return sum(xs) // len(xs)\n\n\ndef pre_test_f(xs):\n    return type(xs) is list and all(type(x) is int for x in xs)\n\n\ndef test_f(xs):\n    return min(xs) <= f(xs) <= max(xs)\n',
      inputs: ['[1, 2]'],
      outputs: ['1'],
      message: null,
    };
    expect((await grade(mean, '[]')).pass).toBe(true);
    expect((await grade(mean, '[4, 8]')).pass).toBe(false);
  });

  it('exhausting recursion, time or memory never counts (a huge input must not win)', async () => {
    const code = [
      'def f(n):',
      '    if n > 10 ** 9:',
      '        return len([0] * n)',
      '    if n > 10 ** 6:',
      '        return sum(1 for _ in range(n))',
      '    return 0 if n == 0 else 1 + f(n - 1)',
      '',
      '',
      'def pre_test_f(n):',
      '    return type(n) is int and n >= 0',
      '',
      '',
      'def test_f(n):',
      '    return f(n) == n',
    ].join('\n');
    const p: ExecutedProblem = { code, inputs: ['3'], outputs: ['3'], message: null };
    expect((await grade(p, '3')).pass).toBe(false);
    const rec = await grade(p, '5000');
    expect(rec).toMatchObject({ pass: false, outcome: { status: 'error' } });
    expect(rec.outcome?.error).toContain('RecursionError');
    expect((await grade(p, String(10 ** 8), 300)).outcome?.status).toBe('timeout');
    const mem = await grade(p, String(10 ** 11));
    expect(mem.pass).toBe(false);
    expect(['memory_limit', 'error']).toContain(mem.outcome?.status);
  });

  it('each check gets its own copy of the input, so pre_test_f cannot steer test_f', async () => {
    const code = [
      'def f(xs):',
      '    return xs[0]',
      '',
      '',
      'def pre_test_f(xs):',
      '    xs.sort()',
      '    return type(xs) is list and len(xs) > 0',
      '',
      '',
      'def test_f(xs):',
      '    return f(xs) == min(xs)',
    ].join('\n');
    const p: ExecutedProblem = { code, inputs: ['[1, 2]'], outputs: ['1'], message: null };
    expect((await grade(p, '[3, 1]')).pass).toBe(true);
    expect((await grade(p, '[1, 3]')).pass).toBe(false);
  });

  it('describes failures in fuzzing terms', () => {
    expect(describeFailure('input 1 raised CairnReject: test_f passed on the answer: no failure found')).toBe(
      'test_f passed on the answer: no failure found',
    );
    expect(describeFailure('input 1 timed out')).toMatch(/time-outs do not count/);
    expect(describeFailure('input 1 raised bad input: SyntaxError: invalid syntax')).toMatch(/not a Python literal/);
  });
});
