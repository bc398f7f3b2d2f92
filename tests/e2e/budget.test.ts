/**
 * A budget on the real stack (dev server, simulator over HTTP, Postgres, sandbox, real workers):
 * the batch pauses itself with the reason once its priced spend reaches the budget, what the open
 * seeds paid is kept, `batch status` shows the cost, and raising the budget on resume finishes it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchTokenUse, costOf } from '../../db/queries/cost';
import { batchSummary } from '../../db/queries/stats';
import { formatCost, resumeBatch, startBatch } from '../../scripts/lib';
import { writeSeedFile } from '../../scripts/lib/seed-file';
import { loadConfig } from '../../workers/config/load-config';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { batchWorkflowId } from '../../workflows/contracts';
import { progressQuery } from '../../workflows/contracts/messages';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-budget-'));
const base = loadConfig(process.env);
// $1 per million tokens either way, for both (simulated) models.
const PRICES = JSON.stringify(Object.fromEntries([base.teacher.model, base.student.model].map((m) => [m, { input: 1, output: 1 }])));

beforeAll(async () => {
  stack = await startTestStack('budget', { extraEnv: { CAIRN_PRICES: PRICES } });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('--budget pauses the batch with the reason when reached; resume --budget raises it and the batch finishes', async () => {
  const { env, tdb, cfg } = stack;
  const file = path.join(tmp, 'seeds.jsonl');
  writeSeedFile(
    file,
    Array.from({ length: 12 }, (_, i) => ({
      id: `s${String(i).padStart(2, '0')}`,
      kind: 'snippet',
      source: null,
      snippet: `def f${i}(x):\n    return x + ${i}\n`,
    })),
  );
  // A budget below one seed's spend: the first spend check after a seed ends pauses the batch.
  await startBatch(tdb.db, env.client, cfg, {
    seedsFile: file,
    batchId: 'bud',
    turns: 1,
    attempts: 2,
    window: 4,
    budgetUsd: 0.0001,
    decontam: 'off',
  });
  const h = env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('bud'));
  const end = Date.now() + 120_000;
  let p = await h.query(progressQuery);
  while (!(p.paused && p.open === 0) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    p = await h.query(progressQuery);
  }
  expect(p.paused).toBe(true);
  expect(p.stopReason).toMatch(
    /^paused: budget reached \(\$[0-9.e-]+ spent of \$0\.000100; the open seeds finish their turns\); raise it with/,
  );
  expect(p.started).toBeLessThan(12);
  expect(p.finished + p.failed).toBe(p.started);
  const cost = costOf(await batchTokenUse(tdb.db, 'bud'), cfg.prices);
  expect(cost.unpriced).toEqual([]);
  expect(cost.usd).toBeGreaterThanOrEqual(0.0001);
  const s = await batchSummary(tdb.db, 'bud');
  const text = formatCost(cost, s.exportable, 0.0001);
  expect(text).toMatch(/^cost: \$[0-9.e-]+ \(teacher \$[0-9.e-]+, student \$[0-9.e-]+\); per usable problem/);
  expect(text).toMatch(/cost per turn: turn 1 \$/);

  await resumeBatch(tdb.db, env.client, cfg, 'bud', { budgetUsd: 100 });
  const r = await h.result();
  expect(r.started).toBeGreaterThanOrEqual(12);
  expect(r.finished + r.failed).toBe(r.started);
  expect((await batchSummary(tdb.db, 'bud')).seeds).toMatchObject({ total: 12, pending: 0, running: 0 });
}, 300_000);
