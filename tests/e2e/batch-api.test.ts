/**
 * The provider batch API for both roles (CAIRN_TEACHER_API=batch, CAIRN_STUDENT_API=batch) on the
 * real stack: requests from several seeds go out together as OpenAI-format batch files to the
 * simulator's /v1/files + /v1/batches, each file within the set limits and submitted once, the
 * answers land in the same llm_calls cache as online calls, and the batch finishes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { seedCounts } from '../../db/queries/batches';
import { batchTokenUse } from '../../db/queries/cost';
import { batchApiCounts } from '../../db/queries/llm-batch';
import { startBatch } from '../../scripts/lib/start-batch';
import { cutSeeds, stdlibDir, writeSeedFile } from '../../scripts/lib/seed-file';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { batchWorkflowId, seedWorkflowId } from '../../workflows/contracts';
import { listSeedIds } from '../../db/queries/batches';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-batchapi-'));
const MAX_REQUESTS = 2;
beforeAll(async () => {
  stack = await startTestStack('batchapi', {
    sim: { batchDelayMs: 200, batchMaxRequests: MAX_REQUESTS },
    extraEnv: {
      CAIRN_TEACHER_API: 'batch',
      CAIRN_STUDENT_API: 'batch',
      CAIRN_TEACHER_BATCH_MAX_REQUESTS: String(MAX_REQUESTS),
      CAIRN_STUDENT_BATCH_MAX_REQUESTS: String(MAX_REQUESTS),
      CAIRN_TEACHER_BATCH_COLLECT_MS: '1000',
      CAIRN_STUDENT_BATCH_COLLECT_MS: '1000',
      CAIRN_TEACHER_BATCH_POLL_MS: '100',
      CAIRN_STUDENT_BATCH_POLL_MS: '100',
    },
  });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('4 seeds x 2 turns through batch files for teacher and student: finished, files within limits, each submitted once', async () => {
  const { tdb, env, sim, cfg } = stack;
  const file = path.join(tmp, 'seeds.jsonl');
  writeSeedFile(file, cutSeeds({ from: stdlibDir(), count: 4, minLines: 20, maxLines: 40, ext: '.py', seed: 5 }));
  await startBatch(tdb.db, env.client, cfg, { seedsFile: file, batchId: 'bapi', turns: 2, attempts: 2, env: 'induction', window: 4 });
  const result = await env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('bapi')).result();
  expect(result).toEqual({ started: 4, finished: 4, failed: 0, cancelled: false });
  expect(await seedCounts(tdb.db, 'bapi')).toEqual({ pending: 0, running: 0, done: 4, failed: 0 });

  const n = async (q: string) => Number((await tdb.db.execute(sql.raw(q))).rows[0]?.n);
  // No online call at all: every sample came through a batch file.
  expect(sim.stats().requests).toBe(0);
  const b = sim.batches();
  console.log(
    `batch API: ${b.batches} batch files, lines per file ${JSON.stringify(b.linesPerFile)}, ${b.samples.teacher} teacher + ${b.samples.student} student samples`,
  );
  expect(b.batches).toBeGreaterThan(2);
  // Several seeds per file (collected fleet-wide), never more than the limit, never a file submitted twice.
  expect(Math.max(...b.linesPerFile)).toBe(MAX_REQUESTS);
  expect(Object.values(b.batchesPerFile).every((c) => c === 1)).toBe(true);
  expect(b.linesPerFile).toHaveLength(b.batches); // no file uploaded twice either
  expect(b.completed).toBe(b.batches);
  const counts = await batchApiCounts(tdb.db);
  expect(counts.files['teacher/collected'] ?? 0).toBeGreaterThan(0);
  expect(counts.files['student/collected'] ?? 0).toBeGreaterThan(0);
  expect(Object.keys(counts.requests).filter((k) => !k.endsWith('/done'))).toEqual([]);
  // Same cache as online calls: one llm_calls row per sample served, none twice.
  expect(await n('select count(*) n from llm_calls')).toBe(b.samples.teacher + b.samples.student);
  expect(await n(`select count(*) n from llm_calls where role = 'teacher'`)).toBe(8);
  const graded = await n(`select count(*) n from problems where status = 'graded'`);
  expect(graded).toBeGreaterThan(0);
  expect(await n('select count(*) n from attempts')).toBe(graded * 2);
  expect(await n(`select count(*) n from llm_batch_files where requests > ${MAX_REQUESTS}`)).toBe(0);
  // Priced at the batch discount: every row of use is marked as sent through the batch API.
  const use = await batchTokenUse(tdb.db, 'bapi');
  expect(use.length).toBeGreaterThan(0);
  expect(use.every((u) => u.batch)).toBe(true);
  // What the waits cost in Temporal: history events per seed-turn (a wait adds a failed attempt, a signal, a timer).
  let events = 0;
  let signals = 0;
  for (const id of await listSeedIds(tdb.db, 'bapi')) {
    const h = await env.client.workflow.getHandle(seedWorkflowId('bapi', id)).fetchHistory();
    events += h.events?.length ?? 0;
    signals += (h.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
  }
  console.log(`batch API: ${(events / 8).toFixed(1)} history events and ${(signals / 8).toFixed(1)} signals per seed-turn`);
}, 240_000);
