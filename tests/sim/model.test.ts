/** The teacher and student models as pure functions: prompt reading, difficulty moves, faults. */
import { familyForSeed, paramsForDifficulty, writeInputs } from '../../scripts/sim/families';
import { parseStudentPrompt, parseTeacherPrompt } from '../../scripts/sim/prompt';
import { Rng, sigmoid } from '../../scripts/sim/rng';
import { DEFAULT_SIM_SETTINGS, parseSimSettings, SimSettingsError } from '../../scripts/sim/settings';
import { attempt, type AttemptKind } from '../../scripts/sim/induction-student';
import { draftProblem, instructionMove, TEACHER_FAULTS, type Draft, type TeacherFault } from '../../scripts/sim/induction-teacher';
import { mean, runPython, studentUser, teacherUser } from './sim-helpers';

const SEED = 'def count_words(text):\n    ## a comment that looks like a heading\n    return len(text.split())\n';
const settings = parseSimSettings({});
const draft = (user: string, i: number, s = settings): Draft => draftProblem(parseTeacherPrompt(user), s, Rng.from('t', i));

describe('reading prompts', () => {
  test('headings inside fences are content; longer fences hold backticks', () => {
    const seed = 'x = 1\n## not a heading\n```\ninner\n```\n';
    const user = teacherUser(seed, 'Make it harder.').replace('```seed\n' + seed + '\n```', '````seed\n' + seed + '\n````');
    const p = parseTeacherPrompt(user);
    expect(p.seed).toBe(seed);
    expect(p.previous).toBeNull();
    expect(p.instruction).toBe('Make it harder.');
  });

  test('a refinement prompt yields the previous code and message, feedback and instruction', () => {
    const prev = { code: 'def f(x):\n    return x', inputs: ['1', '2'], outputs: ['1', '2'], message: 'Return x.' };
    const p = parseTeacherPrompt(
      teacherUser(SEED, 'Fix it.', prev, { feedback: 'Your previous problem was invalid: no message block found' }),
    );
    expect(p.previous).toEqual({ code: prev.code, message: 'Return x.' });
    expect(p.feedback).toMatch(/invalid/);
    expect(p.seed.trim()).toBe(SEED.trim());
  });

  test('the student prompt yields the hint and the pairs', () => {
    const s = parseStudentPrompt(
      studentUser('Add them up.', [
        ['[1, 2]', '3'],
        ["'a', 2", "'aa'"],
      ]),
    );
    expect(s.message).toBe('Add them up.');
    expect(s.examples).toEqual([
      { input: '[1, 2]', output: '3' },
      { input: "'a', 2", output: "'aa'" },
    ]);
  });

  test('the instruction moves on the words harder / easier only', () => {
    expect(instructionMove('Make the problem harder: aim for 35-65%.')).toBe('harder');
    expect(instructionMove('Make the problem easier, keeping the core idea.')).toBe('easier');
    expect(instructionMove('Keep the core task, and strengthen the tests.')).toBe('keep');
  });
});

describe('the teacher', () => {
  test('first drafts come from a broad U-shaped prior, and the family follows the seed', () => {
    const ds = Array.from({ length: 400 }, (_x, i) => draft(teacherUser(SEED, 'Write a new problem.'), i));
    expect(new Set(ds.map((d) => d.family.id))).toEqual(new Set([familyForSeed(SEED).id]));
    const inBand = mean(ds.map((d) => (d.d >= 0.35 && d.d <= 0.65 ? 1 : 0)));
    expect(inBand).toBeLessThan(0.35);
    expect(mean(ds.map((d) => (d.d < 0.25 ? 1 : 0)))).toBeGreaterThan(0.2);
    expect(mean(ds.map((d) => (d.d > 0.75 ? 1 : 0)))).toBeGreaterThan(0.2);
  });

  test('harder / easier / keep move d from the hint it wrote before', () => {
    const fam = familyForSeed(SEED);
    const moves = { harder: [] as number[], easier: [] as number[], keep: [] as number[] };
    for (let i = 0; i < 120; i++) {
      const p0 = paramsForDifficulty(fam, 0.3 + 0.4 * Rng.from('d0', i).next(), Rng.from('p0', i));
      const d0 = fam.difficulty(p0);
      const prev = { code: fam.code(p0), inputs: ['1'], outputs: ['1'], message: fam.message(p0) };
      const perf = { performance: 'Pass rate: 16/32 (0.50)' };
      moves.harder.push(draft(teacherUser(SEED, 'Make the problem harder.', prev, perf), i).d - d0);
      moves.easier.push(draft(teacherUser(SEED, 'Make the problem easier.', prev, perf), i).d - d0);
      moves.keep.push(draft(teacherUser(SEED, 'Keep the core task.', prev, perf), i).d - d0);
    }
    expect(mean(moves.harder)).toBeGreaterThan(0.08);
    expect(mean(moves.easier)).toBeLessThan(-0.08);
    expect(Math.abs(mean(moves.keep))).toBeLessThan(0.04);
  });

  test('format feedback lowers the fault rate; an unreadable previous hint restarts from the prior', () => {
    const prev = { code: 'def f(x):\n    return x', inputs: ['1'], outputs: null, message: null };
    const plain = Array.from({ length: 600 }, (_x, i) => draft(teacherUser(SEED, 'Write a new problem.'), i));
    const fed = Array.from({ length: 600 }, (_x, i) =>
      draft(
        teacherUser(SEED, 'Write a valid problem.', prev, { feedback: 'Your previous problem was invalid: no message block found' }),
        i,
      ),
    );
    const rate = (ds: Draft[]): number => mean(ds.map((d) => (d.fault ? 1 : 0)));
    expect(rate(plain)).toBeGreaterThan(0.06);
    expect(rate(fed)).toBeLessThan(rate(plain) * 0.6);
    expect(new Set(fed.map((d) => d.move))).toEqual(new Set(['prior']));
  });

  test('every fault kind makes a problem that validation rejects for that reason', async () => {
    const all = parseSimSettings({ malformedRate: 1 });
    const byKind = new Map<TeacherFault, Draft>();
    for (let i = 0; byKind.size < TEACHER_FAULTS.length && i < 500; i++) {
      const d = draft(teacherUser(`seed ${i}`, 'Write a new problem.'), i, all);
      if (d.fault && !byKind.has(d.fault)) byKind.set(d.fault, d);
    }
    expect([...byKind.keys()].sort()).toEqual([...TEACHER_FAULTS].sort());
    const kinds = [...byKind.entries()];
    const jobs = kinds.map(([, d]) => ({ code: d.code, inputs: d.inputs, timeout: 0.15 }));
    // Three processes: address-dependent output could coincide in two by chance.
    const [a, b, c] = await Promise.all([runPython(jobs), runPython(jobs), runPython(jobs)]);
    kinds.forEach(([kind, d], i) => {
      const ra = a[i];
      const errors = ra?.outcomes.filter((o) => !o.ok).map((o) => o.error ?? '') ?? [];
      const verdict = {
        missing_message: d.message === null,
        input_count: d.inputs.length !== 5,
        syntax: ra?.status === 'syntax',
        banned_import: ra?.status === 'banned',
        raises: errors.some((e) => e.startsWith('TypeError')),
        too_slow: errors.includes('Timeout'),
        nondeterministic:
          ra?.status === 'ok' && errors.length === 0 && new Set([ra, b[i], c[i]].map((r) => JSON.stringify(r?.outcomes))).size > 1,
      }[kind];
      expect({ kind, rejected: verdict }).toEqual({ kind, rejected: true });
    });
  });
});

describe('the student', () => {
  const fam = familyForSeed(SEED);

  function attempts(d: number, n: number, skill = 0.55): Array<{ kind: AttemptKind; code: string; inputs: string[] }> {
    const p = paramsForDifficulty(fam, d, Rng.from('sp', d));
    const inputs = writeInputs(fam, p, Rng.from('si', d), true).map((a) => a.join(', '));
    const prompt = parseStudentPrompt(studentUser(fam.message(p), [[inputs[0] ?? '', '0']]));
    const s = parseSimSettings({ skill });
    return Array.from({ length: n }, (_x, i) => ({ ...attempt(prompt, s, Rng.from('a', d, i)), inputs }));
  }

  test('solves with probability sigmoid(a * (skill - d)), d read from the hint', () => {
    for (const target of [0.2, 0.55, 0.8]) {
      const p = paramsForDifficulty(fam, target, Rng.from('sp', target));
      const d = fam.difficulty(p);
      const got = mean(attempts(target, 600).map((a) => (a.kind === 'correct' ? 1 : 0)));
      expect(Math.abs(got - sigmoid(DEFAULT_SIM_SETTINGS.sharpness * (0.55 - d)))).toBeLessThan(0.07);
    }
  });

  test('failed attempts are mutations, crashes, syntax errors or rare infinite loops, and they fail', async () => {
    const as = attempts(0.9, 300);
    const kinds = new Set(as.map((a) => a.kind));
    for (const k of ['mutation', 'runtime_error', 'syntax_error', 'infinite_loop'] as const) expect(kinds).toContain(k);
    expect(mean(as.map((a) => (a.kind === 'infinite_loop' ? 1 : 0)))).toBeLessThan(0.06);
    const sample = (['runtime_error', 'syntax_error', 'infinite_loop'] as const).map((k) => as.find((a) => a.kind === k)!);
    const res = await runPython(sample.map((a) => ({ code: a.code, inputs: a.inputs, timeout: 0.1 })));
    expect(res[0]?.outcomes.every((o) => !o.ok)).toBe(true);
    expect(res[1]?.status).toBe('syntax');
    expect(res[2]?.outcomes[0]?.error).toBe('Timeout');
  });

  test('an unreadable hint gets a guess shaped like the examples', () => {
    const prompt = parseStudentPrompt(studentUser('Do the thing from before.', [["[1, 2], 'x'", '7']]));
    const a = attempt(prompt, settings, Rng.from('g'));
    expect(a.kind).toBe('guess');
    expect(a.code).toMatch(/^def f\(a0, a1\):/);
  });
});

test('settings parse from flags (kebab or camel, strings) and reject bad values', () => {
  const s = parseSimSettings({ 'rate-429': '0.5', skill: '0.7', nSupport: 'false', reasoningStyle: 'think_tags', port: 99 });
  expect(s).toMatchObject({ rate429: 0.5, skill: 0.7, nSupport: false, reasoningStyle: 'think_tags', seed: 0 });
  expect(Object.isFrozen(s)).toBe(true);
  expect(() => parseSimSettings({ skill: '1.5' })).toThrow(SimSettingsError);
  expect(() => parseSimSettings({ maxConcurrent: 1.5 })).toThrow(SimSettingsError);
  expect(() => parseSimSettings({ port: 1 }, DEFAULT_SIM_SETTINGS, { strict: true })).toThrow(/unknown setting/);
});
