import {
  bannedImport,
  instructionText,
  parseStudent,
  parseTeacher,
  studentMessages,
  teacherMessages,
} from '../../activities/environments/induction';

const good = [
  'Here is the problem.',
  '```python\ndef f(xs, k):\n    return sorted(x for x in xs if x % k == 0)\n```',
  ...['[1, 2, 3], 1', '[4, 6, 9], 3', '[], 2', '[5], 5', '[10, 20, 7], 10'].map((i) => '```input\n' + i + '\n```'),
  '```message\nKeep the multiples of k, in increasing order.\n```',
].join('\n');

describe('induction teacher parser', () => {
  it('accepts a well-formed problem', () => {
    const r = parseTeacher(good);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.inputs).toHaveLength(5);
      expect(r.value.inputs[1]).toBe('[4, 6, 9], 3');
      expect(r.value.message).toBe('Keep the multiples of k, in increasing order.');
    }
  });

  it.each([
    [good.replace(/```message[\s\S]*```$/, ''), 'No message found'],
    [good.replace('```input\n[5], 5\n```', ''), 'Found 4 input blocks'],
    [good.replace('def f(xs, k)', 'def g(xs, k)'), 'does not define a top-level function `f`'],
    [good.replace('def f(xs, k):', 'import os\ndef f(xs, k):'), 'imports `os`'],
    ['no blocks at all', 'No ```python block'],
  ])('rejects a bad problem with a reason the teacher can act on (%#)', (text, reason) => {
    const r = parseTeacher(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it('finds banned imports in every form', () => {
    expect(bannedImport('from subprocess import run')).toBe('subprocess');
    expect(bannedImport('import math, random as r')).toBe('random');
    expect(bannedImport("x = __import__('os')")).toBe('os');
    expect(bannedImport('import math\nimport collections.abc')).toBeNull();
  });

  it('ignores code inside reasoning', () => {
    const r = parseTeacher('<think>```python\ndef f(): pass\n```</think>' + good);
    expect(r.ok).toBe(true);
  });
});

describe('prompts', () => {
  it('turn 1 has the seed, the instruction and the format, and no previous problem', () => {
    const [sys, user] = teacherMessages('def seed(): return 1', 'initial', null);
    expect(sys?.role).toBe('system');
    expect(user?.content).toMatch(/^# Environment: induction/);
    expect(user?.content).toContain('```seed\ndef seed(): return 1\n```');
    expect(user?.content).toContain('## Instruction');
    expect(user?.content).not.toContain('## Previous problem');
  });

  it('a refinement shows the previous problem, executed outputs, performance and the instruction', () => {
    const msgs = teacherMessages('seed', 'harder', {
      code: 'def f(x):\n    return x',
      inputs: ['1', '2'],
      outputs: ['1', '2'],
      message: 'identity',
      passRate: 0.875,
      attempts: 8,
      passed: 7,
      invalidReason: null,
      examples: [{ answer: 'def f(x): return 0', failure: 'wrong output on input 1' }],
    });
    const u = msgs[1]?.content ?? '';
    expect(u).toContain('## Previous problem');
    expect(u).toContain('```input\n2\n```\n\n```output\n2\n```');
    expect(u).toContain('Pass rate: 7/8 (0.88)');
    expect(u).toContain('A failed attempt (wrong output on input 1)');
    expect(u).toContain(instructionText('harder', 0.875));
    expect(instructionText('harder', 0.875)).toMatch(/harder/);
    expect(instructionText('easier', 0)).toMatch(/easier/);
    expect(instructionText('keep', 0.5)).not.toMatch(/harder|easier/);
  });

  it('an invalid previous problem comes back as feedback', () => {
    const u =
      teacherMessages('seed', 'fix', {
        code: null,
        inputs: [],
        outputs: null,
        message: null,
        passRate: null,
        attempts: null,
        passed: null,
        invalidReason: 'No message found! Make sure to correctly format the message.',
        examples: [],
      })[1]?.content ?? '';
    expect(u).toContain('## Feedback\n\nYour previous problem was invalid: No message found!');
  });

  it('the student sees the message and only the visible pairs, never the code', () => {
    const u = studentMessages('hint text', ['1', '2', '3'], ['10', '20', '30'], 2)[1]?.content ?? '';
    expect(u).toContain('## Message\n\nhint text');
    expect(u).toContain('```input\n2\n```\n```output\n20\n```');
    expect(u).not.toContain('30');
  });

  it('parses the student answer from the last python block, after reasoning', () => {
    const r = parseStudent('<think>```python\nwrong\n```</think>text\n```python\ndef f(x):\n    return x\n```');
    expect(r).toEqual({ ok: true, value: 'def f(x):\n    return x' });
    expect(parseStudent('no code').ok).toBe(false);
  });
});
