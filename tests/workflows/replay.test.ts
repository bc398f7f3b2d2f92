/**
 * Replays every committed history, of every release (histories/<release>/), against today's
 * workflow code: a change that would break running workflows (non-determinism) fails here. Record
 * a new release's folder with tests/workflows/make-histories.ts for intended changes, guarded by
 * `patched()`; never re-record an old one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/temporal';

const dir = path.join(__dirname, 'histories');
const releases = fs
  .readdirSync(dir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
const files = releases.flatMap((r) =>
  fs
    .readdirSync(path.join(dir, r))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `${r}/${f}`),
);

test('every release keeps its histories of every workflow and mode', () => {
  expect(releases[0]).toBe('0.1.0');
  for (const r of releases) {
    const names = files.filter((f) => f.startsWith(`${r}/`)).map((f) => path.basename(f));
    expect(names).toEqual(expect.arrayContaining(['batch.json', 'seed-chain.json', 'seed-multi.json', 'seed-single.json']));
  }
  // Since bounded batches: continue-as-new, every update, seed-done signals, a failed and a cancelled seed.
  const latest = files.filter((f) => f.startsWith(`${releases[releases.length - 1]}/`)).map((f) => path.basename(f));
  expect(latest).toEqual(
    expect.arrayContaining(['batch-lifecycle-run1.json', 'batch-lifecycle-run2.json', 'seed-failed.json', 'seed-cancelled.json']),
  );
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
