/**
 * Emergence, with no Cairn code involved: a small multi-turn loop of our own (teacher -> execute f
 * with python -> student n=32 -> execute the attempts -> pass rate -> instruction) over HTTP. The
 * simulator never sees pass rates except through the prompt, so these effects must emerge.
 */
import {
  chat,
  mean,
  parseProblem,
  runPython,
  startSim,
  studentCode,
  studentUser,
  teacherUser,
  type Harness,
  type Previous,
} from './sim-helpers';

// CPU-bound (hundreds of simulator and harness python processes): 10-35 s a test, more on a busy
// machine; the default minute is too close for a verdict that does not depend on time.
jest.setTimeout(180_000);

const SEEDS = Array.from(
  { length: 24 },
  (_x, i) => `def helper_${i}(data):\n    total = 0\n    for item in data:\n        total += item * ${i + 1}\n    return total\n`,
);
const TURNS = 4;
const M = 32;
const VISIBLE = 3;

interface Problem {
  code: string;
  inputs: string[];
  outputs: string[];
  message: string;
}

interface Turn {
  problem: Problem | null;
  prev: Previous | null;
  feedback?: string;
  p: number | null;
  instruction: string;
}

function instructionFor(p: number): string {
  if (p === 1) return 'Every attempt passed: the tests are probably too weak. Make the problem harder, with diverse outputs.';
  if (p > 0.65) return 'The student solved it too often. Make the problem harder: aim for a pass rate of 35-65%.';
  if (p === 0) return 'The student never solved it. Make the problem easier, keeping the core idea.';
  return 'The difficulty is about right. Keep the core task, and strengthen the tests or vary the problem.';
}
const FIX = 'Your previous problem could not be used (see the feedback). Write a valid problem in the exact output format.';

let h: Harness;
beforeAll(async () => {
  // SIM_EMERGENCE_SEED reruns the loop with another simulator seed (the checks hold across seeds).
  h = await startSim({ seed: Number(process.env.SIM_EMERGENCE_SEED ?? 11) });
});
afterAll(async () => {
  await h.sim.close();
});

/** Validates teacher answers: blocks, parse, banned imports, runs, determinism across 2 processes. */
async function validate(contents: string[]): Promise<Array<{ problem: Problem | null; reason: string | null; prev: Previous }>> {
  const parsed = contents.map(parseProblem);
  const jobs = parsed.map((p) => ({ code: p.code ?? '', inputs: p.inputs, timeout: 0.5 }));
  const [a, b] = await Promise.all([runPython(jobs), runPython(jobs)]);
  return parsed.map((p, i) => {
    const ra = a[i];
    const rb = b[i];
    const outs = ra?.outcomes.every((o) => o.ok) ? ra.outcomes.map((o) => o.out as string) : null;
    let reason: string | null = null;
    if (p.code === null) reason = 'no python block found';
    else if (p.message === null) reason = 'no message block found';
    else if (p.inputs.length !== 5) reason = `found ${p.inputs.length} input blocks, expected 5`;
    else if (ra?.status !== 'ok') reason = `the code is invalid (${ra?.status})`;
    else if (!outs) reason = `the code failed on an input: ${ra.outcomes.find((o) => !o.ok)?.error}`;
    else if (JSON.stringify(rb?.outcomes) !== JSON.stringify(ra.outcomes)) reason = 'the code is not deterministic';
    const prev: Previous = { code: p.code, inputs: p.inputs, outputs: reason ? null : outs, message: p.message };
    return {
      problem: reason || !outs ? null : { code: p.code as string, inputs: p.inputs, outputs: outs, message: p.message as string },
      reason,
      prev,
    };
  });
}

/** Pass rates of M student attempts per problem. */
async function passRates(problems: Problem[]): Promise<number[]> {
  const answers = await Promise.all(
    problems.map((pr) => {
      const pairs = pr.inputs.slice(0, VISIBLE).map((inp, i): [string, string] => [inp, pr.outputs[i] as string]);
      return h.client.chat.completions.create({ model: 'sim-student', messages: chat(studentUser(pr.message, pairs)), n: M });
    }),
  );
  const jobs = answers.flatMap((res, i) =>
    res.choices.map((c) => ({
      code: studentCode(c.message.content ?? ''),
      inputs: problems[i]?.inputs ?? [],
      expected: problems[i]?.outputs,
      timeout: 0.1,
    })),
  );
  const results = await runPython(jobs);
  return problems.map((_pr, i) => results.slice(i * M, (i + 1) * M).filter((r) => r.pass === true).length / M);
}

const history: Turn[][] = SEEDS.map(() => []);

/** One teacher request: the seed, the previous turn (if any), and the instruction to give. */
interface Ask {
  seed: string;
  last: Turn | null;
  instruction?: string;
}

/** Teacher -> validation -> student M times -> pass rate, for every ask at once. */
async function runTurn(asks: Ask[]): Promise<Turn[]> {
  const contents = await Promise.all(
    asks.map(async ({ seed, last, instruction }) => {
      const user = last
        ? teacherUser(
            seed,
            instruction ?? last.instruction,
            last.prev ?? undefined,
            last.feedback
              ? { feedback: last.feedback }
              : { performance: `Pass rate: ${Math.round((last.p ?? 0) * M)}/${M} (${(last.p ?? 0).toFixed(2)})` },
          )
        : teacherUser(seed, 'Write a new problem based on the seed.');
      const res = await h.client.chat.completions.create({ model: 'sim-teacher', messages: chat(user) });
      return res.choices[0]?.message.content ?? '';
    }),
  );
  const checked = await validate(contents);
  const valid = checked.flatMap((c, i) => (c.problem ? [{ i, problem: c.problem }] : []));
  const rates = await passRates(valid.map((v) => v.problem));
  return checked.map((c, i) => {
    const vi = valid.findIndex((v) => v.i === i);
    const p = vi >= 0 ? (rates[vi] as number) : null;
    const feedback = c.reason ? `Your previous problem was invalid: ${c.reason}` : undefined;
    return { problem: c.problem, prev: c.prev, feedback, p, instruction: p === null ? FIX : instructionFor(p) };
  });
}

const rate = (ts: Turn[], keep: (p: number) => boolean): number =>
  mean(ts.filter((x) => x.p !== null).map((x) => (keep(x.p as number) ? 1 : 0)));

test('multi-turn: the loop steers problems into the usable range', async () => {
  for (let t = 0; t < TURNS; t++) {
    const turns = await runTurn(SEEDS.map((seed, s) => ({ seed, last: history[s]?.[t - 1] ?? null })));
    turns.forEach((x, s) => history[s]?.push(x));
  }
  const deltas: Record<'harder' | 'easier' | 'keep', number[]> = { harder: [], easier: [], keep: [] };
  for (const turns of history) {
    for (let t = 0; t + 1 < turns.length; t++) {
      const a = turns[t] as Turn;
      const b = turns[t + 1] as Turn;
      if (a.p === null || b.p === null) continue;
      const kind = /harder/.test(a.instruction) ? 'harder' : /easier/.test(a.instruction) ? 'easier' : 'keep';
      deltas[kind].push(b.p - a.p);
    }
  }
  const first = history.map((ts) => ts[0] as Turn);
  const later = history.flatMap((ts) => ts.slice(1));
  // Usable after filtering: 0.01 < p < 0.97 (with M = 32: 1 to 31 solved), over valid problems.
  const usable = (p: number): boolean => p > 0.01 && p < 0.97;
  const medium = (p: number): boolean => p >= 0.35 && p <= 0.65;
  const summary = {
    transitions: { harder: deltas.harder.length, easier: deltas.easier.length, keep: deltas.keep.length },
    meanDelta: { harder: mean(deltas.harder), easier: mean(deltas.easier), keep: mean(deltas.keep) },
    invalidRate: mean(history.flat().map((x) => (x.problem ? 0 : 1))),
    usable: { turn1: rate(first, usable), later: rate(later, usable) },
    medium: { turn1: rate(first, medium), later: rate(later, medium) },
  };
  console.log('emergence summary', JSON.stringify(summary));
  // SIM_TRACE=1 prints each seed's pass-rate trajectory ('inv' = invalid problem).
  if (process.env.SIM_TRACE)
    console.log(history.map((ts) => ts.map((x) => (x.p === null ? 'inv' : x.p.toFixed(2))).join(' -> ')).join('\n'));

  expect(summary.invalidRate).toBeLessThan(0.25);
  expect(deltas.harder.length).toBeGreaterThanOrEqual(8);
  expect(mean(deltas.harder)).toBeLessThan(-0.05);
  expect(summary.usable.later).toBeGreaterThan(summary.usable.turn1);
});

test('asked harder the pass rate falls on average; asked easier it rises', async () => {
  const all = history.flatMap((ts, s) => ts.map((t) => ({ seed: SEEDS[s] as string, last: t })));
  const lows = all.filter((a) => a.last.p !== null && a.last.p <= 0.15);
  const highs = all.filter((a) => a.last.p !== null && a.last.p >= 0.85);
  const [easier, harder] = await Promise.all([
    runTurn(lows.map((a) => ({ ...a, instruction: 'The student rarely solved it. Make the problem easier, keeping the core idea.' }))),
    runTurn(
      highs.map((a) => ({ ...a, instruction: 'The student solved it too often. Make the problem harder: aim for a pass rate of 35-65%.' })),
    ),
  ]);
  const delta = (before: Array<{ last: Turn }>, after: Turn[]): number[] =>
    after.flatMap((t, i) => (t.p === null ? [] : [t.p - (before[i]?.last.p as number)]));
  const dEasier = delta(lows, easier);
  const dHarder = delta(highs, harder);
  console.log(
    'controlled summary',
    JSON.stringify({ easier: { n: dEasier.length, meanDelta: mean(dEasier) }, harder: { n: dHarder.length, meanDelta: mean(dHarder) } }),
  );
  expect(dEasier.length).toBeGreaterThanOrEqual(8);
  expect(dHarder.length).toBeGreaterThanOrEqual(8);
  expect(mean(dEasier)).toBeGreaterThan(0.05);
  expect(mean(dHarder)).toBeLessThan(-0.05);
});

test('a more skilled student passes more often on the same problems', async () => {
  const problems = history
    .flat()
    .flatMap((t) => (t.problem ? [t.problem] : []))
    .slice(0, 40);
  expect(problems.length).toBeGreaterThanOrEqual(20);
  const set = (skill: number): Promise<Response> =>
    fetch(h.sim.url.replace(/\/v1$/, '/admin/config'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ skill }),
    });
  expect((await set(0.3)).status).toBe(200);
  const low = mean(await passRates(problems));
  expect((await set(0.8)).status).toBe(200);
  const high = mean(await passRates(problems));
  console.log('skill summary', JSON.stringify({ problems: problems.length, skill03: low, skill08: high }));
  expect(high).toBeGreaterThan(low + 0.2);
});
