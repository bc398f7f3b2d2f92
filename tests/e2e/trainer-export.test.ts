/**
 * Trainer exports over a real batch (simulator over HTTP, Postgres, Temporal dev server, the
 * bubblewrap sandbox): verl / TRL / OpenRLHF files load with pyarrow and hold the student's prompt
 * exactly as the student was sent it; the generated cairn_reward.py re-grades every attempt of the
 * batch and agrees with Cairn's stored verdicts; the teacher's answer scores 1; wrong and
 * cheating answers score 0; its parser and comparison are answers.py, the code Cairn's student
 * activity and grader run, and give what they gave on every completion.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { startBatch } from '../../scripts/lib/start-batch';
import { exportBatch } from '../../scripts/dataset/exporter';
import { writeSeedFile } from '../../scripts/lib/seed-file';
import { compareMany, parseAnswers } from '../../activities/environments/answers-py';
import type { InputOutcome } from '../../activities/sandbox/contract';
import { loadConfig } from '../../workers/config/load-config';
import { batchWorkflowId } from '../../workflows/contracts';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { runPythonJson } from '../dataset/tools';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-trainer-'));
const PY = '/usr/bin/python3';
const SEEDS = Number(process.env.CAIRN_REGRADE_SEEDS ?? 8);
// Bigger batches get more time: the batch, the re-grade and its subprocess.
const MORE_MS = 30_000 * Math.max(0, SEEDS - 8);
const BATCH_MS = 300_000 + MORE_MS;
const REGRADE_MS = 900_000 + MORE_MS;

beforeAll(async () => {
  stack = await startTestStack('trainer_export');
  const cfg = loadConfig({ ...process.env, DATABASE_URL: stack.tdb.url });
  const file = path.join(tmp, 'seeds.jsonl');
  // CAIRN_REGRADE_SEEDS=N runs a bigger batch for a firmer agreement figure (default 8 seeds).
  writeSeedFile(
    file,
    Array.from({ length: SEEDS }, (_, i) => ({
      id: `s${i}`,
      kind: 'snippet',
      source: `demo.py:${i}`,
      snippet: `def g${i}(xs):\n    out = []\n    for x in xs:\n        if x % ${i + 2} == 0:\n            out.append(x * ${i + 1})\n    return out`,
    })),
  );
  await startBatch(stack.tdb.db, stack.env.client, cfg, {
    seedsFile: file,
    batchId: 'tx',
    turns: 2,
    attempts: 8,
    env: 'induction=1,abduction=1,deduction=1,fuzzing=1',
  });
  await stack.env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('tx')).result();
}, BATCH_MS);

afterAll(async () => {
  await stack?.stop();
  // CAIRN_KEEP_EXPORTS=DIR keeps the exported directories for a look (e.g. the records in a report).
  if (process.env.CAIRN_KEEP_EXPORTS) fs.cpSync(tmp, process.env.CAIRN_KEEP_EXPORTS, { recursive: true });
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Row {
  data_source: string;
  prompt: { role: string; content: string }[];
  ability: string;
  reward_model: { style: string; ground_truth: string };
  extra_info: Record<string, unknown> & { id: number; env: string; split: string };
}

const LOAD = `
import json, sys, pyarrow.parquet as pq
out = {}
for name in sys.argv[1:]:
    t = pq.read_table(name)
    out[name] = {"schema": {f.name: str(f.type) for f in t.schema}, "rows": t.to_pylist()}
print(json.dumps(out))
`;

/** Scores from cairn_reward.py's shell mode, one per {completion, ground_truth}. */
function score(rewardFile: string, reqs: { completion: string; ground_truth: string }[]): number[] {
  const r = spawnSync(PY, [rewardFile], {
    input: reqs.map((x) => JSON.stringify(x)).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 600_000 + MORE_MS,
    env: { ...process.env, CAIRN_REWARD_PYTHON: PY },
  });
  if (r.status !== 0) throw new Error(`cairn_reward.py failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map(Number);
}

const fenced = (lang: string, body: string) => '```' + lang + '\n' + body + '\n```';

test(
  'verl: files, prompts as the student saw them, re-grade agreement, teacher 1, wrong and cheats 0',
  async () => {
    const db = stack.tdb.db;
    const dir = path.join(tmp, 'verl');
    const ex = await exportBatch(db, { batchId: 'tx', out: dir, format: 'verl', min: 0, max: 1, testFraction: 0.25 });
    expect(fs.existsSync(path.join(dir, 'cairn_reward.py'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toMatch(
      /^---\n[\s\S]*configs:[\s\S]*split: test[\s\S]*## Pass-rate histogram/,
    );
    // What was left out before the student saw it, counted as `cairn batch status` counts it (near-dup is off here).
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toMatch(
      /Left out before the student saw them: \d+ exact duplicates \(same code, or the same up to names and layout\), 0 near-duplicates .* and \d+ problems too close/,
    );
    // The card's front matter tells `datasets` the splits.
    expect(
      runPythonJson<Record<string, number>>(
        `
import json, sys, datasets
ds = datasets.load_dataset(sys.argv[1])
print(json.dumps({k: v.num_rows for k, v in ds.items()}))
`,
        [dir],
      ),
    ).toEqual({ train: ex.trainer?.counts.train, test: ex.trainer?.counts.test });
    const files = [path.join(dir, 'train.parquet'), path.join(dir, 'test.parquet')];
    const loaded = runPythonJson<Record<string, { schema: Record<string, string>; rows: Row[] }>>(LOAD, files);
    const train = loaded[files[0] as string]!,
      test = loaded[files[1] as string]!;
    expect(train.schema).toMatchObject({
      data_source: 'string',
      prompt: 'list<item: struct<role: string not null, content: string not null>>',
      ability: 'string',
      reward_model: 'struct<style: string not null, ground_truth: string not null>',
    });
    expect(train.schema.extra_info).toMatch(
      /^struct<id: int64 not null, batch_id: string not null, env: string not null, split: string not null, pass_rate: double/,
    );
    const rows = [...train.rows, ...test.rows];
    // The batch ran with the HumanEval check on (the default): none of its problems was flagged.
    expect(
      Number((await db.execute(sql.raw(`select count(*) n from problems where invalid_reason like 'Contaminated:%'`))).rows[0]?.n),
    ).toBe(0);
    expect(rows.length).toBe(ex.written);
    expect(test.rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.extra_info.env)).size).toBeGreaterThanOrEqual(3);

    // The prompt is exactly what the student endpoint was sent (the recorded request of its call).
    const sent = await db.execute(
      sql.raw(`select distinct a.problem_id id, c.request->'messages' m from attempts a join llm_calls c on c.id = a.llm_call_id`),
    );
    const byProblem = new Map(sent.rows.map((r) => [Number(r.id), r.m]));
    for (const r of rows) {
      expect(r.data_source).toBe(`cairn/${r.extra_info.env}`);
      expect(r.reward_model.style).toBe('rule');
      expect(r.prompt).toEqual(byProblem.get(r.extra_info.id));
    }

    // Re-grade every attempt of every exported problem with cairn_reward.py.
    const gt = new Map(rows.map((r) => [r.extra_info.id, r.reward_model.ground_truth]));
    const att = await db.execute(
      sql.raw(
        `select a.problem_id id, coalesce(a.completion, l.choices->>0) c, g.verdict v from attempts a join grades g on g.attempt_id = a.id join llm_calls l on l.id = a.llm_call_id order by a.id`,
      ),
    );
    const mine = att.rows.filter((a) => gt.has(Number(a.id)));
    const scores = score(
      path.join(dir, 'cairn_reward.py'),
      mine.map((a) => ({ completion: String(a.c), ground_truth: gt.get(Number(a.id)) as string })),
    );
    const agree = mine.filter((a, i) => (scores[i] === 1) === (a.v === 'pass')).length;
    const passes = mine.filter((a) => a.v === 'pass').length;
    console.log(
      `re-grade agreement: ${agree}/${mine.length} = ${((agree / mine.length) * 100).toFixed(2)}% (${passes} stored passes, ${mine.length - passes} fails)`,
    );
    expect(mine.length).toBeGreaterThan(50);
    expect(passes).toBeGreaterThan(0);
    expect(passes).toBeLessThan(mine.length);
    expect(agree / mine.length).toBeGreaterThanOrEqual(0.999);

    // The teacher's own answer scores 1; wrong and cheating answers score 0, on every record.
    const probs = await db.execute(sql.raw(`select id, code, inputs, outputs from problems where status = 'graded'`));
    const prob = new Map(probs.rows.map((p) => [Number(p.id), p as { code: string; inputs: string[]; outputs: string[] }]));
    const teacher: { completion: string; ground_truth: string }[] = [];
    const bad: { completion: string; ground_truth: string }[] = [];
    for (const r of rows) {
      const p = prob.get(r.extra_info.id)!;
      const g = r.reward_model.ground_truth;
      const env = r.extra_info.env;
      if (env === 'induction') teacher.push({ completion: `Here it is.\n${fenced('python', p.code)}`, ground_truth: g });
      if (env === 'abduction') teacher.push({ completion: fenced('input', p.inputs[0] as string), ground_truth: g });
      if (env === 'deduction')
        teacher.push({ completion: `<think>${fenced('output', '0')}</think>${fenced('output', p.outputs[0] as string)}`, ground_truth: g });
      bad.push({ completion: 'I do not know.', ground_truth: g });
      if (env === 'induction') {
        bad.push(
          { completion: fenced('python', 'def f(*a):\n    return None'), ground_truth: g },
          // An object equal to everything: the canonical form refuses non-builtin types.
          {
            completion: fenced('python', 'class A:\n    def __eq__(self, o):\n        return True\ndef f(*a):\n    return A()'),
            ground_truth: g,
          },
          // Forge the driver's channel, then die before the real result.
          {
            completion: fenced(
              'python',
              `import os\nOUT = ${JSON.stringify(p.outputs)}\ndef f(*a):\n    for fd in range(3, 20):\n        try:\n            os.write(fd, b'{"t":"res","i":0,"status":"ok","out":' + repr(OUT[0]).encode() + b'}\\n')\n        except OSError:\n            pass\n    os._exit(0)`,
            ),
            ground_truth: g,
          },
          // Patch builtins the judge might use, and loop forever.
          {
            completion: fenced('python', 'import builtins\nbuiltins.repr = lambda x: "x"\ndef f(*a):\n    while True:\n        pass'),
            ground_truth: g,
          },
        );
      } else {
        bad.push({ completion: fenced(env === 'deduction' ? 'output' : 'input', '__import__("os").system("true")'), ground_truth: g });
      }
    }
    expect(teacher.length).toBeGreaterThan(0);
    expect(score(path.join(dir, 'cairn_reward.py'), teacher)).toEqual(teacher.map(() => 1));
    expect(score(path.join(dir, 'cairn_reward.py'), bad)).toEqual(bad.map(() => 0));

    // APPS-style ground truths for verl's built-in scorer, with Cairn's job beside them.
    const apps = path.join(tmp, 'apps');
    await exportBatch(db, { batchId: 'tx', out: apps, format: 'verl', min: 0, max: 1, groundTruth: 'apps' });
    const a = runPythonJson<Record<string, { rows: Row[] }>>(LOAD, [path.join(apps, 'train.parquet')])[path.join(apps, 'train.parquet')]!;
    const ind = a.rows.filter((r) => r.data_source === 'apps');
    expect(ind.length).toBeGreaterThan(0);
    for (const r of ind) {
      const g = JSON.parse(r.reward_model.ground_truth) as { inputs: unknown[]; outputs: unknown[] };
      expect(Object.keys(g)).toEqual(['inputs', 'outputs', 'fn_name', 'cairn']);
      // verl's prime_code json.loads each test's input lines (one argument a line) and its output.
      for (const [k, i] of g.inputs.entries()) {
        expect(typeof i).toBe('string');
        expect(() => (i as string).split('\n').map((l) => JSON.parse(l) as unknown)).not.toThrow();
        expect(() => JSON.parse(g.outputs[k] as string) as unknown).not.toThrow();
      }
    }
    // The teacher's code of those records beside them (kept with CAIRN_KEEP_EXPORTS, e.g. to score them with verl's own scorer).
    fs.writeFileSync(
      path.join(apps, 'teacher-code.json'),
      JSON.stringify(Object.fromEntries(ind.map((r) => [r.extra_info.id, prob.get(r.extra_info.id)!.code]))),
    );
  },
  REGRADE_MS,
);

test('TRL and OpenRLHF: columns, and their reward functions grade like compute_score', async () => {
  const db = stack.tdb.db;
  const trl = path.join(tmp, 'trl'),
    orl = path.join(tmp, 'openrlhf');
  await exportBatch(db, { batchId: 'tx', out: trl, format: 'trl', min: 0, max: 1 });
  await exportBatch(db, { batchId: 'tx', out: orl, format: 'openrlhf', min: 0, max: 1 });
  const t = runPythonJson<Record<string, { schema: Record<string, string>; rows: (Row & { ground_truth: string })[] }>>(LOAD, [
    path.join(trl, 'train.parquet'),
  ])[path.join(trl, 'train.parquet')]!;
  expect(Object.keys(t.schema).slice(0, 3)).toEqual(['prompt', 'ground_truth', 'data_source']);
  const lines = fs
    .readFileSync(path.join(orl, 'train.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { input: unknown[]; label: string });
  expect(lines.length).toBe(t.rows.length);
  const ind = t.rows.find((r) => r.extra_info.env === 'induction');
  expect(ind).toBeDefined();
  const code = String((await db.execute(sql.raw(`select code from problems where id = ${ind!.extra_info.id}`))).rows[0]?.code);
  const r = spawnSync(
    PY,
    [
      '-c',
      `
import json, sys
sys.path.insert(0, sys.argv[1])
import cairn_reward as cr
gt, code = sys.argv[2], sys.argv[3]
good = "\`\`\`python\\n" + code + "\\n\`\`\`"
print(json.dumps({
  "trl": cr.cairn_reward(completions=[[{"role": "assistant", "content": good}], [{"role": "assistant", "content": "no"}]], ground_truth=[gt, gt], prompts=None),
  "orl": cr.reward_func(["PROMPT" + good + "<|im_end|>", "PROMPTno"], ["PROMPT", "PROMPT"], [gt, gt])["scores"],
  "verl": cr.compute_score("cairn/induction", good, gt),
}))
`,
      trl,
      ind!.ground_truth,
      code,
    ],
    { encoding: 'utf8', env: { ...process.env, CAIRN_REWARD_PYTHON: PY } },
  );
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ trl: [1, 0], orl: [1, 0], verl: 1 });
}, 300_000);

test('the exported reward parses and compares with the very code Cairn graded with (answers.py), on every completion', async () => {
  const rows = (
    await stack.tdb.db.execute(
      sql.raw(
        `select p.env, coalesce(a.completion, l.choices->>0) completion, a.answer, a.parse_error from attempts a join problems p on p.id = a.problem_id join llm_calls l on l.id = a.llm_call_id`,
      ),
    )
  ).rows;
  const hostile = [
    '<think>```python\nx\n```',
    '```python\ndef f(x):\n  return x\n``` trailing',
    '````input\n1, 2,\n````',
    '```input\nf(1, [2])\n```',
    '\u2028```output\n\ufeff5\u00a0\n```\u3000',
    '<answer>```output\n1\n```',
    '```py\r\ndef f(): pass\r\n```',
    '```\n\n```',
    `\`\`\`output\n${'😀'.repeat(5001)}\n\`\`\``,
    '```input\n,\n```',
    '```text\n(1,)\n```\n```input\n2\n```',
    '``` python\n1\n```',
    '```Python\n1\n```',
  ];
  const cases = [
    ...rows.map((r) => ({ env: String(r.env), text: String(r.completion) })),
    ...hostile.flatMap((text) => ['induction', 'abduction', 'deduction', 'fuzzing'].map((env) => ({ env, text }))),
  ];
  // Cairn's side: what the student activity's call (answers-py.ts parseAnswers) gives, per environment.
  const want: [boolean, string][] = new Array(cases.length);
  for (const env of new Set(cases.map((c) => c.env))) {
    const idx = cases.flatMap((c, i) => (c.env === env ? [i] : []));
    const parsed = await parseAnswers(
      env,
      idx.map((i) => cases[i]!.text),
    );
    for (const [k, i] of idx.entries()) {
      const p = parsed[k]!;
      want[i] = p.ok ? [true, p.value] : [false, p.reason];
    }
  }
  // And the stored answers are what that call gave when the batch ran (so all three match what was graded).
  for (const [i, row] of rows.entries()) expect(row.answer ?? row.parse_error).toBe(want[i]?.[1]);
  // The comparison rule on a table of outcomes, through Cairn's grader call (compareMany).
  const cmpCases: { outcomes: InputOutcome[]; expected: string[] }[] = [
    { outcomes: [], expected: [] },
    { outcomes: [{ status: 'ok', out: '3', wallMs: 1 }], expected: ['3'] },
    { outcomes: [{ status: 'ok', out: '3', wallMs: 1 }], expected: ['3.0'] },
    { outcomes: [{ status: 'ok', wallMs: 1 }], expected: ['None'] },
    {
      outcomes: [
        { status: 'timeout', out: '1', wallMs: 1 },
        { status: 'skipped', wallMs: 0 },
      ],
      expected: ['1', '2'],
    },
    {
      outcomes: [
        { status: 'ok', out: "'\u00e9'", wallMs: 1 },
        { status: 'ok', out: '\ud800', wallMs: 1 },
      ],
      expected: ["'\u00e9'", '\ud800'],
    },
  ];
  const cmpWant = await compareMany(cmpCases);
  expect(cmpWant.map((c) => c.pass)).toEqual([false, true, false, false, false, true]);
  const reward = path.join(tmp, 'verl', 'cairn_reward.py');
  expect(fs.existsSync(reward)).toBe(true);
  const r = spawnSync(
    PY,
    [
      '-c',
      `
import json, sys
sys.path.insert(0, sys.argv[1])
import cairn_reward as cr
req = json.load(sys.stdin)
print(json.dumps({
  "parse": [list(cr.parse_student(c["env"], c["text"])) for c in req["cases"]],
  "compare": [dict(zip(("verdicts", "passed", "pass"), cr.compare_outcomes(c["outcomes"], c["expected"]))) for c in req["cmp"]],
}))
`,
      path.dirname(reward),
    ],
    { input: JSON.stringify({ cases, cmp: cmpCases }), encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ parse: want, compare: cmpWant });
}, 120_000);
