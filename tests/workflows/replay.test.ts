/**
 * Replays committed histories against today's workflow code: a change that would break running
 * workflows (non-determinism) fails here. Regenerate with tests/workflows/make-histories.ts only for
 * intended changes, guarded by `patched()`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/temporal';

const dir = path.join(__dirname, 'histories');
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('there are committed histories of every workflow and mode', () => {
  expect(files).toEqual([
    'batch-budget.json',
    'batch.json',
    'seed-adaptive.json',
    'seed-chain.json',
    'seed-multi.json',
    'seed-single.json',
  ]);
});

test.each(files)(
  '%s replays without non-determinism',
  async (file) => {
    // runReplayHistory takes the CLI's JSON as is (it converts it with the SDK's own proto types).
    const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { events: unknown[] };
    expect(history.events.length).toBeGreaterThan(10);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
  },
  60_000,
);
