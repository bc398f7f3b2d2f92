/**
 * The client library as a user's own script uses it (README "Using Cairn from your own script"),
 * over the real stack: open, start, wait, status, export; the workers record what they used.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  batchSummary,
  exportBatch,
  formatSettings,
  listProvenance,
  openCairn,
  parseBatchSettings,
  startBatch,
  waitForBatch,
  writeSeedFile,
  type Cairn,
} from '../../scripts/lib';
import { getBatch } from '../../db/queries/batches';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let cairn: Cairn | undefined;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-lib-'));

beforeAll(async () => {
  stack = await startTestStack('lib');
}, 180_000);

afterAll(async () => {
  await cairn?.close();
  await stack?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a script starts a batch, waits for it, reads its status and exports it', async () => {
  cairn = await openCairn(stack.childEnv);
  const file = path.join(tmp, 'seeds.jsonl');
  writeSeedFile(file, [
    { id: 'p', kind: 'snippet', source: null, snippet: 'def evens(xs):\n    return [x for x in xs if x % 2 == 0]' },
    { id: 'q', kind: 'snippet', source: null, snippet: 'def caps(s):\n    return s.upper()' },
  ]);
  await startBatch(cairn.db, cairn.client, cairn.cfg, {
    seedsFile: file,
    batchId: 'lib',
    turns: 1,
    attempts: 2,
    visiblePairs: 2,
    timeSlack: 20,
  });
  expect(await waitForBatch(cairn.client, 'lib')).toEqual({ started: 2, finished: 2, failed: 0, cancelled: false });
  const summary = await batchSummary(cairn.db, 'lib');
  expect(summary.seeds.done).toBe(2);

  // Recorded once, read back typed: what was asked for is what the record says.
  const settings = parseBatchSettings((await getBatch(cairn.db, 'lib'))?.settings, 'lib');
  expect(settings).toMatchObject({ turns: 1, attempts: 2, visiblePairs: 2, timeSlack: 20, timeLimitMs: 2000 });
  // What the workers used, recorded by the workers themselves (never the key).
  const used = await listProvenance(cairn.db, 'lib');
  expect(used.map((u) => u.role).sort()).toEqual(['grader', 'student', 'teacher']);
  expect(used.find((u) => u.role === 'student')?.details).toMatchObject({
    model: 'sim-student',
    endpointHost: new URL(stack.sim.url).host,
  });
  expect(formatSettings(settings, used)).toMatch(/workers used: grader .*"memoryMb":256/);

  const out = path.join(tmp, 'lib.jsonl');
  const ex = await exportBatch(cairn.db, { batchId: 'lib', out });
  expect(ex.file).toBe(out);
  expect(fs.readFileSync(out, 'utf8').split('\n').filter(Boolean)).toHaveLength(ex.written);
});
