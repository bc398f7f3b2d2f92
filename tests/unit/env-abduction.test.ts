/** Abduction: teacher parser and prompts, student parser, and rewards through the real sandbox. */
import {
  abduction,
  checkOutputs,
  describeFailure,
  parseStudent,
  parseTeacher,
  studentMessages,
  teacherMessages,
} from '../../activities/environments/abduction';
import type { ExecutedProblem, PreviousProblem, ProblemText } from '../../activities/environments/environment';
import { instructionText } from '../../activities/environments/summary';
/** answers.py MAX_LITERAL_ANSWER. */
const MAX_LITERAL_ANSWER = 10_000;
import { compareOutcomes, createSandbox, type InputOutcome, type Sandbox } from '../../activities/sandbox';
import { loadConfig } from '../../workers/config/load-config';
import { tracked } from '../helpers/tracked-processes';

const CODE = 'def f(xs, k):\n    return sorted(x % k for x in xs)';
const good = ['Here is my problem.', '```python\n' + CODE + '\n```', '```input\n[7, 3, 10], 4\n```'].join('\n\n');

describe('abduction teacher parser', () => {
  it('accepts f and one input; there is no message', () => {
    const r = parseTeacher(good + '\n\n```message\nignored\n```');
    expect(r).toEqual({ ok: true, value: { code: CODE, inputs: ['[7, 3, 10], 4'], message: null } });
  });

  it.each([
    ['no blocks at all', 'No ```python block found'],
    [good + '\n```input\n[1], 2\n```', 'Found 2 input blocks; write exactly 1.'],
    [good.replace(/```input[\s\S]*$/, ''), 'Found 0 input blocks; write exactly 1.'],
    [good.replace('def f(xs, k)', 'def g(xs, k)'), 'does not define a top-level function `f`'],
    [good.replace('def f(', 'import subprocess\ndef f('), 'imports `subprocess`'],
    [good.replace('return sorted', '__cairn_value = 1\n    return sorted'), 'reserved for the grader'],
    [good.replace('[7, 3, 10], 4', `[${'1, '.repeat(800)}1], 4`), 'keep each input under 2000 characters'],
  ])('rejects a bad problem with a reason the teacher can act on (%#)', (text, reason) => {
    const r = parseTeacher(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it('ignores blocks inside reasoning', () => {
    expect(parseTeacher('<think>```input\n1\n```</think>' + good).ok).toBe(true);
  });

  it('refuses an output too long to show', () => {
    const p: ExecutedProblem = { code: CODE, inputs: ['1'], outputs: ['x'.repeat(2001)], message: null };
    expect(checkOutputs(p)).toMatch(/2001 characters/);
    expect(checkOutputs({ ...p, outputs: ['[2, 3, 3]'] })).toBeNull();
  });
});

describe('abduction prompts', () => {
  const prev: PreviousProblem = {
    code: CODE,
    inputs: ['[7, 3, 10], 4'],
    outputs: ['[2, 3, 3]'],
    message: null,
    passRate: 0.375,
    attempts: 8,
    passed: 3,
    invalidReason: null,
    examples: [
      { answer: '[2, 3, 3], 5', failure: null },
      { answer: '[7, 3, 10], 5', failure: 'wrong output on input 1' },
      { answer: `[${'9, '.repeat(300)}9], 4`, failure: 'input 1 raised bad input: ValueError: malformed node' },
    ],
  };

  it('turn 1: environment, seed, instruction and format; no previous problem', () => {
    const [sys, user] = teacherMessages('def seed(): return 1', 'initial', null);
    expect(sys?.role).toBe('system');
    const u = user?.content ?? '';
    expect(u).toMatch(/^# Environment: abduction\n/);
    for (const h of ['## Seed', '## Instruction', '## Output format']) expect(u).toContain(`\n${h}\n`);
    expect(u).toContain('```seed\ndef seed(): return 1\n```');
    expect(u).toContain('exactly one ```input block');
    expect(u).not.toContain('## Previous problem');
  });

  it('a refinement shows the problem with its executed output and a bounded summary of attempts', () => {
    const u = teacherMessages('seed', 'keep', prev)[1]?.content ?? '';
    expect(u).toContain('## Previous problem\n\n```python\n' + CODE + '\n```\n\n```input\n[7, 3, 10], 4\n```\n\n```output\n[2, 3, 3]\n```');
    expect(u).toContain('## Student performance\n\nPass rate: 3/8 (0.38)');
    expect(u).toContain('A solved attempt:\n\n```input\n[2, 3, 3], 5\n```');
    expect(u).toContain('A failed attempt (f(answer) is not the target output):\n\n```input\n[7, 3, 10], 5\n```');
    expect(u).toContain('A failed attempt (the answer is not a Python literal (ValueError: malformed node))');
    expect(u).toMatch(/\.\.\. \[\d+ more characters\]/);
    expect(u).toContain(instructionText('keep', 0.375, 'abduction'));
    expect(instructionText('harder_weak_tests', 1, 'abduction')).toMatch(/too easy to reach/);
  });

  it('an invalid previous problem comes back as feedback', () => {
    const u =
      teacherMessages('seed', 'fix', {
        ...prev,
        outputs: null,
        passRate: null,
        invalidReason: 'Found 2 input blocks; write exactly 1.',
        examples: [],
      })[1]?.content ?? '';
    expect(u).toContain('## Feedback\n\nYour previous problem was invalid: Found 2 input blocks; write exactly 1.');
    expect(u).not.toContain('## Student performance');
  });

  it('the student sees f and the output, never the input', () => {
    const [, user] = studentMessages(CODE, '[2, 3, 3]');
    const u = user?.content ?? '';
    expect(u).toMatch(/^# Environment: abduction\n/);
    expect(u).toContain('## Function\n\n```python\n' + CODE + '\n```');
    expect(u).toContain('## Output\n\n```output\n[2, 3, 3]\n```');
    expect(u).toContain('## Answer format');
    expect(u).not.toContain('[7, 3, 10]');
  });
});

describe('abduction student parser', () => {
  it.each([
    ['```input\n[2, 3, 3], 5\n```', '[2, 3, 3], 5'],
    ['<think>```input\n0\n```</think>\nSo:\n```input\n[1], 2\n```', '[1], 2'],
    ['```input\nf([2, 3, 3], 5)\n```', '[2, 3, 3], 5'],
    ['```input\n[2, 3, 3], 5,\n```', '[2, 3, 3], 5'],
    ['first\n```input\n1\n```\nbetter\n```input\n2\n```', '2'],
    ['```python\n[1, 2], 3\n```', '[1, 2], 3'],
  ])('reads the input (%#)', (text, value) => {
    expect(parseStudent(text)).toEqual({ ok: true, value });
  });

  it.each([
    ['I think [1, 2], 3 works.', 'no ```input block'],
    ['```input\n\n```', 'block is empty'],
    ['```input\nf()\n```', 'no arguments'],
    ['```input\n[' + '1, '.repeat(MAX_LITERAL_ANSWER / 3) + '1]\n```', 'at most 10000 are read'],
  ])('refuses with a reason (%#)', (text, reason) => {
    const r = parseStudent(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

describe('abduction rewards through the sandbox', () => {
  let sb: Sandbox;
  let problem: ExecutedProblem;
  let identity: ExecutedProblem;

  async function execute(p: ProblemText): Promise<ExecutedProblem> {
    const v = abduction.validation(p);
    const r = await sb.run({ ...v, timeLimitMs: 1000 });
    expect(r.outcomes.map((o) => o.status)).toEqual(['ok']);
    return { ...p, outputs: r.outcomes.map((o) => o.out ?? '') };
  }

  async function grade(p: ExecutedProblem, raw: string): Promise<{ pass: boolean; outcome: InputOutcome | undefined }> {
    const parsed = parseStudent('```input\n' + raw + '\n```');
    if (!parsed.ok) return { pass: false, outcome: undefined };
    const job = abduction.gradeJob(p, parsed.value);
    expect(job.code).toBe(p.code);
    const r = await sb.run({ code: job.code, entry: job.entry, inputs: job.inputs, timeLimitMs: 500 });
    return { pass: compareOutcomes(r.outcomes, job.expected).pass, outcome: r.outcomes[0] };
  }

  beforeAll(async () => {
    sb = tracked('sandbox', await createSandbox({ stateDir: loadConfig().sandbox.stateDir }), 'close');
    problem = await execute({ code: CODE, inputs: ['[7, 3, 10], 4'], message: null });
    identity = await execute({ code: 'def f(x):\n    return x\n', inputs: ['[1, 2]'], message: null });
  }, 30_000);
  afterAll(async () => {
    await sb.close();
  });

  it('the output comes from execution', () => {
    expect(problem.outputs).toEqual(['[2, 3, 3]']);
  });

  it.each([
    ["the teacher's own input", '[7, 3, 10], 4'],
    ['another input with the same output (output-equivalence)', '[3, 2, 3], 4'],
    ['another k too', '[2, 3, 3], 5'],
    ['written as a call', 'f([2, 3, 3], 5)'],
    ['with a trailing comment', '[2, 3, 3], 5  # three values'],
  ])('rewards %s', async (_what, answer) => {
    expect((await grade(problem, answer)).pass).toBe(true);
  });

  it.each([
    ['an input with another output', '[7, 3, 10], 5', 'ok'],
    ['too few arguments', '[2, 3, 3]', 'error'],
    ['code (literal_eval refuses it)', "__import__('os').system('touch /tmp/cairn-pwned')", 'error'],
    ['an expression', '[2, 3] + [3], 5', 'error'],
    ['a call inside the literal', 'sorted([3, 2, 3]), 5', 'error'],
    ['a paren break-out', '[2, 3, 3], 5), (1', 'error'],
  ])('refuses %s', async (_what, answer, status) => {
    const g = await grade(problem, answer);
    expect(g.pass).toBe(false);
    expect(g.outcome?.status).toBe(status);
  });

  it('compares values with their types: a string spelling the output is not the output', async () => {
    expect(identity.outputs).toEqual(['[1, 2]']);
    expect((await grade(identity, '[1, 2]')).pass).toBe(true);
    expect((await grade(identity, "'[1, 2]'")).pass).toBe(false);
    expect((await grade(identity, '(1, 2)')).pass).toBe(false);
    expect((await grade(identity, '[1.0, 2]')).pass).toBe(false);
    expect((await grade(identity, '[True, 2]')).pass).toBe(false);
  });

  it('a huge answer is refused before the sandbox, a large one is just graded', async () => {
    expect((await grade(identity, '[' + '0, '.repeat(4000) + '0]')).outcome).toBeUndefined();
    const big = await grade(identity, '[' + '0, '.repeat(3000) + '0]');
    expect(big).toMatchObject({ pass: false, outcome: { status: 'ok' } });
  });

  it('describes failures in abduction terms', () => {
    expect(describeFailure('wrong output on input 1')).toBe('f(answer) is not the target output');
    expect(describeFailure('input 1 raised TypeError: f() missing 1 required positional argument')).toBe(
      'f on the answer raised TypeError: f() missing 1 required positional argument',
    );
    expect(describeFailure('input 1 timed out')).toBe('f on the answer timed out');
  });
});
