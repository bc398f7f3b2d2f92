/**
 * A seed terminated from outside (the UI, `temporal workflow terminate`) frees its window slot at
 * the next reconcile, is recorded with its real status, and `batch resume` runs it again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getSeed } from '../../db/queries/batches';
import { resumeBatch, startBatch, waitForBatch, writeSeedFile } from '../../scripts/lib';
import { seedWorkflowId } from '../../workflows/contracts';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-term-'));

beforeAll(async () => {
  stack = await startTestStack('term', { sim: { teacherLatencyMs: 1500 } });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('terminate one seed: the batch ends with it failed as "terminated", and resume finishes it', async () => {
  const { env, tdb, cfg } = stack;
  const file = path.join(tmp, 'seeds.jsonl');
  writeSeedFile(
    file,
    ['a', 'b', 'c'].map((id, i) => ({
      id,
      kind: 'snippet',
      source: null,
      snippet: `def f${i}(xs):\n    return [x * ${i + 2} for x in xs]`,
    })),
  );
  await startBatch(tdb.db, env.client, cfg, { seedsFile: file, batchId: 'term', turns: 1, attempts: 2, window: 3, reconcileEvery: '2s' });
  const victim = env.client.workflow.getHandle(seedWorkflowId('term', 'b'));
  for (let i = 0; i < 100 && (await victim.describe().catch(() => null))?.status.name !== 'RUNNING'; i++)
    await new Promise((r) => setTimeout(r, 100));
  await victim.terminate('test: terminated from outside');

  expect(await waitForBatch(env.client, 'term')).toEqual({ started: 3, finished: 2, failed: 1, cancelled: false });
  expect(await getSeed(tdb.db, 'term', 'b')).toMatchObject({ status: 'failed', outcome: 'terminated' });

  const r = await resumeBatch(tdb.db, env.client, cfg, 'term');
  expect(r.unfinished).toBe(1);
  expect(await waitForBatch(env.client, 'term')).toMatchObject({ started: 1, finished: 1, failed: 0 });
  expect(await getSeed(tdb.db, 'term', 'b')).toMatchObject({ status: 'done' });
}, 120_000);
