/**
 * Abduction, deduction and fuzzing through Cairn's own environment code: Cairn's prompts in,
 * Cairn's parsers out (compat); every teacher fault caught by Cairn's parser or validation; the
 * student's success rate following sigmoid(a * (skill - d - offset)) with plausible failures.
 * Cairn's validation and grade jobs run in the test harness with the sandbox driver's canonical
 * form (not the sandbox itself: the simulator's own code is trusted and this keeps the suite fast).
 */
import { parseAnswers } from '../../activities/environments/answers-py';
import { environment } from '../../activities/environments';
import type { PreviousProblem } from '../../activities/environments/environment';
import { ENV_OFFSET, hintFromCode } from '../../scripts/sim/envs';
import { envAttempts } from '../../scripts/sim/envStudent';
import { draftFuzz, draftSingle, FUZZ_FAULTS, renderEnvTeacher, SINGLE_FAULTS, type EnvDraft } from '../../scripts/sim/envTeacher';
import { parseStudentPrompt, parseTeacherPrompt } from '../../scripts/sim/prompt';
import { Rng, sigmoid } from '../../scripts/sim/rng';
import { parseSimSettings } from '../../scripts/sim/settings';
import { instructionMove } from '../../scripts/sim/induction-teacher';
import { instructionText } from '../../activities/environments/summary';
import { mean, rewards, type SimGameEnv, startSim, validate, validateAll, type Harness, type Validated } from './sim-helpers';

const ENVS: SimGameEnv[] = ['abduction', 'deduction', 'fuzzing'];
type Env = SimGameEnv;
const SEEDS = [
  'def a(xs):\n    return [x for x in xs if x > 0]\n',
  'def b(s):\n    return s[::-1].upper()\n',
  'def c(d):\n    return sorted(d.items())\n',
];

let h: Harness;
beforeAll(async () => {
  h = await startSim({ seed: 4, malformedRate: 0, reasoningStyle: 'think_tags' });
});
afterAll(async () => {
  await h.sim.close();
});

test("every environment's instructions carry the words the teacher reacts to", () => {
  for (const env of ENVS) {
    expect(instructionMove(instructionText('harder', 0.9, env))).toBe('harder');
    expect(instructionMove(instructionText('harder_weak_tests', 1, env))).toBe('harder');
    expect(instructionMove(instructionText('easier', 0, env))).toBe('easier');
    for (const i of ['initial', 'keep', 'fix'] as const) expect(instructionMove(instructionText(i, 0.5, env))).toBe('keep');
  }
});

describe.each(ENVS)('%s: Cairn in, Cairn out', (env) => {
  test('two turns: the teacher parses and validates, keeps its family, and the students parse and score', async () => {
    const e = environment(env);
    for (const seed of SEEDS) {
      const first = await h.client.chat.completions.create({ model: 'sim-teacher', messages: e.teacherMessages(seed, 'initial', null) });
      const p1 = e.parseTeacher(first.choices[0]?.message.content ?? '');
      if (!p1.ok) throw new Error(p1.reason);
      const v1 = await validate(env, p1.value);
      if (!v1.ok) throw new Error(v1.reason);
      const fam = hintFromCode(p1.value.code)?.family.id;
      expect(fam).toBeDefined();

      const prev: PreviousProblem = {
        code: v1.problem.code,
        inputs: v1.problem.inputs,
        outputs: v1.problem.outputs,
        message: null,
        passRate: 1,
        attempts: 8,
        passed: 8,
        invalidReason: null,
        examples: [{ answer: v1.problem.inputs[0] ?? '', failure: null }],
      };
      const msgs = e.teacherMessages(seed, 'harder_weak_tests', prev);
      const read = parseTeacherPrompt(msgs[1]?.content ?? '');
      expect(read.env).toBe(env);
      expect(read.seed.trim()).toBe(seed.trim());
      expect(read.previous?.code).toBe(v1.problem.code);
      expect(instructionMove(read.instruction)).toBe('harder');
      const second = await h.client.chat.completions.create({ model: 'sim-teacher', messages: msgs });
      const p2 = e.parseTeacher(second.choices[0]?.message.content ?? '');
      if (!p2.ok) throw new Error(p2.reason);
      expect(hintFromCode(p2.value.code)?.family.id).toBe(fam);
      const v2 = await validate(env, p2.value);
      if (!v2.ok) throw new Error(v2.reason);

      const sp = parseStudentPrompt(e.studentMessages(v2.problem, { visiblePairs: 3 })[1]?.content ?? '');
      expect(sp.env).toBe(env);
      expect(sp.code).toBe(v2.problem.code);
      if (env === 'deduction') expect(sp.input).toBe(v2.problem.inputs[0]);
      if (env === 'abduction') expect(sp.output).toBe(v2.problem.outputs[0]);
      if (env === 'fuzzing') expect(sp.passing).toEqual(v2.problem.inputs);
      const student = await h.client.chat.completions.create({
        model: 'sim-student',
        n: 16,
        messages: e.studentMessages(v2.problem, { visiblePairs: 3 }),
      });
      const parsed = await parseAnswers(
        env,
        student.choices.map((c) => c.message.content ?? ''),
      );
      // Malformed answers are part of the model, but most answers parse.
      expect(mean(parsed.map((r) => (r.ok ? 1 : 0)))).toBeGreaterThan(0.7);
      const r = await rewards(
        env,
        v2.problem,
        parsed.map((x) => (x.ok ? x.value : null)),
      );
      expect(r).toHaveLength(16);
    }
  });
});

/** Drafts for one environment over many seeds (no HTTP), as the answer path makes them. */
function drafts(env: Env, count: number, settings = parseSimSettings({ malformedRate: 0 })): Promise<EnvDraft[]> {
  const e = environment(env);
  return Promise.all(
    Array.from({ length: count }, (_x, i) => {
      const prompt = parseTeacherPrompt(e.teacherMessages(`seed number ${i}`, 'initial', null)[1]?.content ?? '');
      return env === 'fuzzing'
        ? draftFuzz(prompt, settings, Rng.from('d', env, i))
        : draftSingle(env, prompt, settings, Rng.from('d', env, i));
    }),
  );
}

describe.each(ENVS)('%s: teacher faults', (env) => {
  test("every fault kind is caught by Cairn's parser or validation", async () => {
    const kinds: readonly string[] = env === 'fuzzing' ? FUZZ_FAULTS : SINGLE_FAULTS;
    const all = await drafts(env, env === 'fuzzing' ? 20 : 40, parseSimSettings({ malformedRate: 1 }));
    const byKind = new Map<string, EnvDraft>();
    for (const d of all) if (d.fault && !byKind.has(d.fault)) byKind.set(d.fault, d);
    expect([...byKind.keys()].sort()).toEqual([...kinds].sort());
    // Without faults every draft is valid.
    const clean = await drafts(env, 12);
    const e = environment(env);
    const cases = [...byKind.entries(), ...clean.map((d) => ['none', d] as const)];
    const parsed = cases.map(([, d]) => e.parseTeacher(renderEnvTeacher(d)));
    const toRun = parsed.flatMap((p, i) => (p.ok ? [{ i, p: p.value }] : []));
    const checked = await validateAll(
      env,
      toRun.map((x) => x.p),
    );
    const verdicts = parsed.map((p, i): string => {
      if (!p.ok) return `parse: ${p.reason}`;
      const v = checked[toRun.findIndex((x) => x.i === i)] as Validated;
      return v.ok ? 'valid' : `invalid: ${v.reason}`;
    });
    cases.forEach(([kind], i) => {
      const v = verdicts[i] as string;
      expect({ kind, valid: v === 'valid' }).toEqual({ kind, valid: kind === 'none' });
    });
  });
});

describe.each(ENVS)('%s: the student', (env) => {
  test('solves with probability sigmoid(a * (skill - d - offset)); its failures are plausible and mostly earn nothing', async () => {
    const e = environment(env);
    const settings = parseSimSettings({});
    const ds = (await drafts(env, 10)).filter((d) => d.bug !== null || env !== 'fuzzing').slice(0, 6);
    const vs = await validateAll(
      env,
      ds.map((d) => {
        const parsed = e.parseTeacher(renderEnvTeacher(d));
        if (!parsed.ok) throw new Error(parsed.reason);
        return parsed.value;
      }),
    );
    let expected = 0;
    let got = 0;
    const kinds = new Set<string>();
    const all = await Promise.all(
      ds.map(async (d, j) => {
        const v = vs[j] as Validated;
        if (!v.ok) throw new Error(v.reason);
        const prompt = parseStudentPrompt(e.studentMessages(v.problem, { visiblePairs: 3 })[1]?.content ?? '');
        const as = await envAttempts(
          env,
          prompt,
          settings,
          Array.from({ length: 120 }, (_x, i) => Rng.from('att', env, d.d, i)),
        );
        expected += sigmoid(settings.sharpness * (settings.skill - d.d - ENV_OFFSET[env]));
        got += mean(as.map((a) => (a.kind === 'correct' ? 1 : 0)));
        as.forEach((a) => kinds.add(a.kind));
        const lang = env === 'deduction' ? 'output' : 'input';
        const ps = await parseAnswers(
          env,
          as.map((a) => '```' + lang + '\n' + (a.answer ?? '') + '\n```'),
        );
        const answers = as.map((a, k) => (a.answer !== null && ps[k]?.ok ? ps[k].value : null));
        return { as, r: await rewards(env, v.problem, answers) };
      }),
    );
    const wrongRewards: number[] = [];
    for (const { as, r } of all) {
      as.forEach((a, i) => {
        if (a.kind === 'correct')
          expect({ kind: a.kind, answer: a.answer, reward: r[i] }).toEqual({ kind: 'correct', answer: a.answer, reward: 1 });
        else wrongRewards.push(r[i] as number);
      });
    }
    expect(Math.abs(got - expected) / ds.length).toBeLessThan(0.08);
    const wrongKinds = {
      deduction: ['mistrace', 'off_by_one', 'type_slip', 'malformed'],
      abduction: ['misread', 'near_miss', 'echo', 'malformed'],
      fuzzing: ['miss', 'invalid_input', 'arity', 'malformed'],
    }[env];
    for (const k of wrongKinds) expect(kinds).toContain(k);
    // Some wrong answers are right by luck (a misreading that does not matter here), most are not.
    expect(mean(wrongRewards)).toBeLessThan(0.5);
  });
});
