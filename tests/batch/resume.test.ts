/**
 * A batch survives its starter being SIGKILLed mid-load: nothing runs for a half-loaded batch, and
 * `resume` finishes loading and runs every seed, on the real stack.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getBatch, seedCounts } from '../../db/queries/batches';
import { resumeBatch } from '../../scripts/lib';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { batchWorkflowId } from '../../workflows/contracts';
import { spawnTracked } from '../helpers/tracked-processes';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-resume-'));
beforeAll(async () => {
  stack = await startTestStack('resume');
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('starter killed mid-load; resume loads the rest and finishes the batch', async () => {
  // 40 seeds of ~1.5 MB each: the loader flushes every 8 MB, so the load takes several chunks.
  const file = path.join(tmp, 'big.jsonl');
  const filler = '# ' + 'x'.repeat(1500) + '\n';
  const body = filler.repeat(1000);
  fs.writeFileSync(
    file,
    Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        id: `s${String(i).padStart(2, '0')}`,
        snippet: `def f(xs):\n    return [x * ${i} for x in xs if x > ${i % 5}]\n${body}`,
      }),
    ).join('\n') + '\n',
  );

  const child = spawnTracked(
    process.execPath,
    ['scripts/cairn.js', 'batch', 'start', '--seeds', file, '--batch', 'killed', '--turns', '1', '--attempts', '2', '--window', '8'],
    {
      cwd: path.resolve(__dirname, '../..'),
      env: stack.childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const until = Date.now() + 60_000;
  let loaded = 0;
  while (Date.now() < until && loaded === 0) {
    await new Promise((r) => setTimeout(r, 10));
    if (await getBatch(stack.tdb.db, 'killed')) loaded = (await seedCounts(stack.tdb.db, 'killed')).pending;
  }
  child.kill('SIGKILL');
  await exited;
  const c = await seedCounts(stack.tdb.db, 'killed');
  expect(c.pending).toBeGreaterThan(0);
  expect(c.pending).toBeLessThan(40);
  expect((await getBatch(stack.tdb.db, 'killed'))?.loadedAt).toBeNull();
  const desc = await stack.env.client.workflow
    .getHandle(batchWorkflowId('killed'))
    .describe()
    .catch((e: Error) => e);
  expect(desc).toBeInstanceOf(Error); // no workflow was started for a half-loaded batch

  const r = await resumeBatch(stack.tdb.db, stack.env.client, stack.cfg, 'killed', { window: 8 });
  expect(r.unfinished).toBe(40);
  const result = await stack.env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('killed')).result();
  expect(result).toEqual({ started: 40, finished: 40, failed: 0, cancelled: false });
  expect(await seedCounts(stack.tdb.db, 'killed')).toEqual({ pending: 0, running: 0, done: 40, failed: 0 });
  expect((await getBatch(stack.tdb.db, 'killed'))?.seedCount).toBe(40);
}, 240_000);
