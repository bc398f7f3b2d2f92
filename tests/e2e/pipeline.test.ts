/**
 * End to end over the real stack: LLM simulator over HTTP, Postgres, a Temporal dev server, the
 * bubblewrap sandbox and the real activities: 3 seeds x 2 turns -> rows and an exported file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'drizzle-orm';
import { startBatch } from '../../scripts/lib/start-batch';
import { exportBatch, type ExportRecord } from '../../scripts/dataset/exporter';
import { writeSeedFile } from '../../scripts/lib/seed-file';
import { listSeedIds, seedCounts } from '../../db/queries/batches';
import { loadConfig } from '../../workers/config/load-config';
import { batchWorkflowId, seedWorkflowId } from '../../workflows/contracts';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import type { seedWorkflow } from '../../workflows/seed-workflow';
import type { TestDb } from '../helpers/db';
import { startTestStack, type TestStack } from '../helpers/stack';

const SECRET = 'sk-e2e-secret-do-not-leak';
let stack: TestStack;
let env: TestWorkflowEnvironment;
let tdb: TestDb;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-e2e-'));

beforeAll(async () => {
  stack = await startTestStack('e2e', { apiKey: SECRET });
  ({ env, tdb } = stack);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const seeds = [
  {
    id: 'a',
    kind: 'snippet',
    source: null,
    snippet: 'def total(xs):\n    s = 0\n    for x in xs:\n        if x % 2 == 0:\n            s += x * x\n    return s',
  },
  {
    id: 'b',
    kind: 'snippet',
    source: null,
    snippet: 'def words(text):\n    out = {}\n    for w in text.lower().split():\n        out[w] = out.get(w, 0) + 1\n    return out',
  },
  {
    id: 'c',
    kind: 'snippet',
    source: null,
    snippet:
      'def merge(iv):\n    iv.sort()\n    res = []\n    for a, b in iv:\n        if res and a <= res[-1][1]:\n            res[-1][1] = max(res[-1][1], b)\n        else:\n            res.append([a, b])\n    return res',
  },
];

test('3 seeds x 2 turns: problems executed, attempts graded, dataset exported, nothing paid twice', async () => {
  const cfg = loadConfig({ ...process.env, DATABASE_URL: tdb.url });
  const file = path.join(tmp, 'seeds.jsonl');
  writeSeedFile(file, seeds);
  const o = { seedsFile: file, batchId: 'e2e', turns: 2, attempts: 4, env: 'induction' as const };
  const r = await startBatch(tdb.db, env.client, cfg, o);
  expect(r.totalSeeds).toBe(3);
  const batchResult = await env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('e2e')).result();
  expect(batchResult).toEqual({ started: 3, finished: 3, failed: 0, cancelled: false });
  for (const id of await listSeedIds(tdb.db, 'e2e')) {
    const res = await env.client.workflow.getHandle<typeof seedWorkflow>(seedWorkflowId('e2e', id)).result();
    expect(res.turns).toHaveLength(2);
  }
  expect(await seedCounts(tdb.db, 'e2e')).toEqual({ pending: 0, running: 0, done: 3, failed: 0 });

  const count = async (q: string) => Number((await tdb.db.execute(sql.raw(q))).rows[0]?.n);
  expect(await count(`select count(*) n from problems where batch_id = 'e2e'`)).toBe(6);
  const graded = await count(`select count(*) n from problems where status = 'graded'`);
  expect(graded).toBeGreaterThan(0);
  expect(await count(`select count(*) n from attempts`)).toBe(graded * 4);
  expect(await count(`select count(*) n from grades`)).toBe(graded * 4);
  expect(await count(`select count(*) n from problems where status = 'graded' and (outputs is null or pass_rate is null)`)).toBe(0);
  const calls = await count('select count(*) n from llm_calls');

  // Starting the same batch again starts nothing twice and pays for nothing.
  const again = await startBatch(tdb.db, env.client, cfg, o);
  expect(again.load.inserted).toBe(0);
  expect(await env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('e2e')).result()).toMatchObject({ started: 0 });
  expect(await count('select count(*) n from llm_calls')).toBe(calls);
  expect(await count(`select count(*) n from problems`)).toBe(6);

  const out = path.join(tmp, 'data.jsonl');
  const ex = await exportBatch(tdb.db, { batchId: 'e2e', out, min: 0, max: 1 });
  expect(ex.written).toBe(graded);
  const recs = fs
    .readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ExportRecord);
  for (const rec of recs) {
    expect(rec.env).toBe('induction');
    expect(rec.inputs).toHaveLength(5);
    expect(rec.outputs).toHaveLength(5);
    expect(rec.code).toMatch(/def f\(/);
    expect(rec.pass_rate).toBeGreaterThanOrEqual(0);
    expect(rec.attempts).toBe(4);
    expect(seeds.map((s) => s.id)).toContain(rec.seed.id);
  }

  // The API key reaches the endpoint but never history or Postgres.
  for (const id of ['a', 'b', 'c']) {
    const hist = await env.client.workflow.getHandle(seedWorkflowId('e2e', id)).fetchHistory();
    expect(JSON.stringify(hist)).not.toContain(SECRET);
  }
  for (const table of ['batches', 'seeds', 'problems', 'attempts', 'grades', 'llm_calls']) {
    const dump = await tdb.db.execute(sql.raw(`select coalesce(string_agg(t::text, ''), '') s from ${table} t`));
    expect(String(dump.rows[0]?.s).length).toBeGreaterThan(0);
    expect(String(dump.rows[0]?.s)).not.toContain(SECRET);
  }
}, 300_000);
