/**
 * Emergence in abduction, deduction and fuzzing: Cairn's prompts, parsers, progression rule and
 * grade jobs around the simulator over HTTP (grade jobs run in the test harness with the sandbox's
 * canonical form). The simulator sees pass rates only through the prompt, so the pass rate moving
 * the way the instruction asks must emerge from the teacher reading its previous problem.
 */
import { parseAnswers } from '../../activities/environments/answers-py';
import { environment } from '../../activities/environments';
import type { ExecutedProblem, PreviousProblem, ProblemText } from '../../activities/environments/environment';
import { nextInstruction } from '../../workflows/method/progression';
import type { Instruction } from '../../workflows/contracts';
import { mean, rewardsAll, startSim, validateAll, type Harness, type SimGameEnv, type Validated } from './sim-helpers';

// CPU-bound (hundreds of simulator and harness python processes): 10-35 s a test, more on a busy
// machine; the default minute is too close for a verdict that does not depend on time.
jest.setTimeout(180_000);

const SEEDS = Array.from(
  { length: 24 },
  (_x, i) => `def helper_${i}(items):\n    out = []\n    for x in items:\n        out.append(x * ${i + 2})\n    return out\n`,
);
const TURNS = 2;
const M = 32;

interface Turn {
  parsed: ProblemText | null;
  problem: ExecutedProblem | null;
  invalidReason: string | null;
  p: number | null;
}

interface Ask {
  seed: string;
  instr: Instruction;
  prev: PreviousProblem | null;
}

function previous(t: Turn): PreviousProblem {
  const passed = t.p === null ? null : Math.round(t.p * M);
  return {
    code: t.parsed?.code ?? null,
    inputs: t.parsed?.inputs ?? [],
    outputs: t.problem?.outputs ?? null,
    message: null,
    passRate: t.p,
    attempts: t.p === null ? null : M,
    passed,
    invalidReason: t.invalidReason,
    examples: [],
  };
}

let h: Harness;
beforeAll(async () => {
  h = await startSim({ seed: Number(process.env.SIM_EMERGENCE_SEED ?? 11) });
});
afterAll(async () => {
  await h.sim.close();
});

/** Teacher -> Cairn's parser and validation -> M student attempts -> Cairn's grade jobs, for every ask. */
async function runTurn(env: SimGameEnv, asks: Ask[]): Promise<Turn[]> {
  const e = environment(env);
  const texts = await Promise.all(
    asks.map(async (a) => {
      const res = await h.client.chat.completions.create({ model: 'sim-teacher', messages: e.teacherMessages(a.seed, a.instr, a.prev) });
      return res.choices[0]?.message.content ?? '';
    }),
  );
  const parsed = texts.map((t) => e.parseTeacher(t));
  const ok = parsed.flatMap((p, i) => (p.ok ? [{ i, p: p.value }] : []));
  const checked = await validateAll(
    env,
    ok.map((x) => x.p),
  );
  const valid = ok.flatMap((x, j) => {
    const v = checked[j] as Validated;
    return v.ok ? [{ i: x.i, problem: v.problem }] : [];
  });
  const answers = await Promise.all(
    valid.map(async ({ problem }) => {
      const res = await h.client.chat.completions.create({
        model: 'sim-student',
        n: M,
        messages: e.studentMessages(problem, { visiblePairs: 3 }),
      });
      // One call for the M answers (Cairn's student activity parses them so).
      const parsed = await parseAnswers(
        env,
        res.choices.map((c) => c.message.content ?? ''),
      );
      return parsed.map((r) => (r.ok ? r.value : null));
    }),
  );
  const rs = await rewardsAll(
    env,
    valid.map((v, j) => ({ problem: v.problem, answers: answers[j] ?? [] })),
  );
  return parsed.map((p, i): Turn => {
    const vi = valid.findIndex((v) => v.i === i);
    if (!p.ok) return { parsed: null, problem: null, invalidReason: p.reason, p: null };
    if (vi < 0) {
      const v = checked[ok.findIndex((x) => x.i === i)] as Validated;
      return { parsed: p.value, problem: null, invalidReason: v.ok ? 'invalid' : v.reason, p: null };
    }
    return { parsed: p.value, problem: valid[vi]?.problem ?? null, invalidReason: null, p: mean(rs[vi] ?? []) };
  });
}

const usable = (p: number): boolean => p > 0.01 && p < 0.97;
const share = (ts: Turn[], keep: (p: number) => boolean): number =>
  mean(ts.filter((t) => t.p !== null).map((t) => (keep(t.p as number) ? 1 : 0)));

describe.each(['abduction', 'deduction', 'fuzzing'] as const)('%s', (env) => {
  test('the multi-turn loop runs; the same problem asked easier comes out easier than asked harder', async () => {
    const history: Turn[][] = SEEDS.map(() => []);
    for (let t = 0; t < TURNS; t++) {
      const asks = SEEDS.map((seed, s): Ask => {
        const last = history[s]?.[t - 1];
        const instr = nextInstruction(last ? (last.p === null ? { valid: false } : { valid: true, passRate: last.p }) : undefined);
        return { seed, instr, prev: last ? previous(last) : null };
      });
      (await runTurn(env, asks)).forEach((x, s) => history[s]?.push(x));
    }
    // Controlled: every valid turn-1 problem asked both harder and easier.
    const base = history.flatMap((ts, s) => (ts[0]?.p !== null && ts[0] ? [{ seed: SEEDS[s] as string, t: ts[0] }] : []));
    const [harder, easier] = await Promise.all(
      (['harder', 'easier'] as const).map((instr) =>
        runTurn(
          env,
          base.map((a) => ({ seed: a.seed, instr, prev: previous(a.t) })),
        ),
      ),
    );
    const pairs = base.flatMap((a, i) => {
      const hp = harder?.[i]?.p;
      const ep = easier?.[i]?.p;
      return hp === null || ep === null || hp === undefined || ep === undefined ? [] : [{ p: a.t.p as number, harder: hp, easier: ep }];
    });
    // At p = 1 (or 0) there is no telling how deep into saturation a problem is, so one step may
    // not show: those are left out of the direction they cannot move in.
    const harderD = pairs.filter((x) => x.p < 1).map((x) => x.harder - x.p);
    const easierD = pairs.filter((x) => x.p > 0).map((x) => x.easier - x.p);
    const spread = pairs.filter((x) => x.p > 0 && x.p < 1).map((x) => x.easier - x.harder);
    const first = history.map((ts) => ts[0] as Turn);
    const second = history.map((ts) => ts[1] as Turn);
    const summary = {
      env,
      invalidRate: mean(history.flat().map((t) => (t.p === null ? 1 : 0))),
      meanP: {
        turn1: mean(first.flatMap((t) => (t.p === null ? [] : [t.p]))),
        turn2: mean(second.flatMap((t) => (t.p === null ? [] : [t.p]))),
      },
      usable: { turn1: share(first, usable), turn2: share(second, usable) },
      controlled: { n: pairs.length, harderDelta: mean(harderD), easierDelta: mean(easierD), spread: mean(spread) },
    };
    console.log('env emergence', JSON.stringify(summary));
    if (process.env.SIM_TRACE) {
      console.log(
        history
          .map((ts) => ts.map((x) => (x.p === null ? `inv(${x.invalidReason?.slice(0, 40)})` : x.p.toFixed(2))).join(' -> '))
          .join('\n'),
      );
    }
    expect(summary.invalidRate).toBeLessThan(0.3);
    expect(pairs.length).toBeGreaterThanOrEqual(12);
    // The same problem asked easier must come out clearly easier than asked harder (over simulator
    // seeds 1-6 and 11 this spread stayed in 0.2-0.4); each direction alone is only checked not to
    // go the wrong way, since near p = 0 or 1 one step of d barely moves p and with ~15 problems
    // of M = 32 attempts one direction can average out near 0.
    expect(summary.controlled.spread).toBeGreaterThan(0.12);
    expect(summary.controlled.harderDelta).toBeLessThan(0.02);
    expect(summary.controlled.easierDelta).toBeGreaterThan(-0.02);
  });
});
