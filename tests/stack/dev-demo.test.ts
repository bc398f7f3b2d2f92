/**
 * `cairn demo` and `cairn dev` whose grader worker dies on start, as real processes on real
 * parts: the Temporal dev server from the installed CLI (on free ports), a fresh Postgres
 * database, the simulator, four worker processes. The grader is made to die cheaply: its sandbox
 * state dir holds a regular file named `jobs`, so the sandbox cannot make its job dir (`cairn
 * setup`, which only writes the seccomp filter, is fine with it). Every process a test starts is
 * in one process group, killed in afterEach whatever happened.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDb, type TestDb } from '../helpers/db';
import { temporalCliPath } from '../helpers/temporal';
import { cleanEnv, freePort, groupMembers, startCairn, type CairnRun } from './stack-helpers';

let tdb: TestDb;
let tmp: string;
let run: CairnRun | undefined;

beforeAll(async () => {
  tdb = await createTestDb('stack');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-stack-'));
  fs.chmodSync(tmp, 0o755); // the state dir below must stay usable for `cairn setup` (as root: traversable)
});
afterEach(async () => {
  await run?.killAll();
  run = undefined;
});
afterAll(async () => {
  await tdb?.drop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Settings for a stack of our own: nothing on the fixed ports, state in `tmp/<name>`. */
async function stackEnv(name: string): Promise<NodeJS.ProcessEnv> {
  const state = path.join(tmp, name, 'sandbox');
  fs.mkdirSync(state, { recursive: true });
  fs.writeFileSync(path.join(state, 'jobs'), 'not a directory\n');
  const [temporal, ui, sim] = [await freePort(), await freePort(), await freePort()];
  return cleanEnv({
    CAIRN_DATA_DIR: path.join(tmp, name, 'data'),
    CAIRN_SANDBOX_STATE_DIR: state,
    DATABASE_URL: tdb.url,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    CAIRN_TEMPORAL_UI: `http://localhost:${ui}`,
    CAIRN_SIM_PORT: String(sim),
    TEMPORAL_CLI: temporalCliPath(),
  });
}

const GRADER_DIED =
  /worker grader \(pid \d+\) exited with code 1 after [\d.]+ s; last lines of (\S+worker-grader\.log):\n {4}cairn: cannot make the sandbox job dir \S+jobs: EEXIST/;

test('demo: a worker that dies is reported with its log tail, and the demo fails at once (exit 1)', async () => {
  const env = await stackEnv('demo');
  run = startCairn(['demo', '--seeds', '2', '--turns', '1', '--attempts', '2'], env);
  const died = run.waitFor(GRADER_DIED, 150_000);
  let diedAt = Infinity;
  died.then(
    () => (diedAt = Date.now()),
    () => undefined,
  ); // awaited below, after the exit (which tells more)
  const code = await run.exitWithin(150_000);
  const exitedAt = Date.now();
  const out = run.output();
  expect({ code, out }).toMatchObject({ code: 1 });
  const m = await died;
  // At once: what is left is stopping the other workers and Temporal (they drain in about 3 s).
  expect(exitedAt - diedAt).toBeLessThan(20_000);
  expect(path.resolve(m?.[1] ?? '')).toBe(path.join(tmp, 'demo', 'data', 'logs', 'worker-grader.log'));
  // The one-paragraph error: the child, how it ended, its last log line, what to do.
  expect(out).toMatch(
    /\ncairn: worker grader \(pid \d+\) exited with code 1 after [\d.]+ s; the last line of \S+: cairn: cannot make the sandbox job dir .*The demo cannot finish without it/,
  );
  expect(groupMembers(run.child.pid ?? -1)).toEqual([]); // the demo stopped Temporal and the other workers itself
}, 180_000);

test('dev: a worker that dies is reported and restarted with backoff; SIGINT still stops every child', async () => {
  const env = await stackEnv('dev');
  run = startCairn(['dev'], env);
  await run.waitFor(/\[dev\] ready\./, 120_000);
  await run.waitFor(GRADER_DIED, 120_000);
  await run.waitFor(/\[dev\] worker grader: restarting in 1\.0 s \(restart 1;/, 10_000);
  await run.waitFor(/\[dev\] worker grader restarted \(pid \d+\)/, 10_000);
  // (The doubling waits are tests/stack/watcher.test.ts's; here the stop comes mid-restart.)
  const pgid = run.child.pid ?? -1;
  expect(groupMembers(pgid).some((p) => / temporal$/.test(p))).toBe(true);
  run.child.kill('SIGINT');
  const code = await run.exitWithin(60_000);
  expect({ code, tail: run.output().slice(-400) }).toMatchObject({ code: 0 });
  expect(run.output()).toMatch(/\[dev\] stopping \.\.\.\n(.*\n)*\[dev\] stopped; run `npx cairn dev` again/);
  const afterStop = run.output().slice(run.output().indexOf('[dev] stopping'));
  expect(afterStop).not.toMatch(/restart|exited/); // no restart, no crash report once stopping
  for (let i = 0; i < 20 && groupMembers(pgid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(groupMembers(pgid)).toEqual([]);
}, 240_000);
