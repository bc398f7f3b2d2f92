/**
 * A grader host whose sandbox breaks while it runs (here: the compiled driver vanishes from the
 * state dir) checks itself after the host-side failure, finds it cannot run sandboxes, records no
 * verdict, says why once, and refuses every later run (the worker then stops polling the queue).
 */
import fs from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { activitiesFor } from '../../activities';
import { upsertBatch } from '../../db/queries/batches';
import { getProblem, insertProblem } from '../../db/queries/problems';
import { ERR } from '../../workflows/contracts';
import { createTestDb, testSettings, type TestDb } from '../helpers/db';
import { makeSandbox, type TestSandbox } from './sandbox-helpers';

let tdb: TestDb;
let sb: TestSandbox;
let stateDir: string;
beforeAll(async () => {
  tdb = await createTestDb('brokenhost');
  ({ sb, stateDir } = await makeSandbox(9));
  await upsertBatch(tdb.db, 'bh', testSettings());
}, 60_000);
afterAll(async () => {
  await sb?.close();
  await tdb?.drop();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

const problem = (turn: number) =>
  insertProblem(tdb.db, {
    key: `bh/s/t${turn}`,
    batchId: 'bh',
    seedId: 's',
    env: 'induction',
    turn,
    chainId: 'c',
    instruction: 'initial',
    code: `def f(x):\n    return x + ${turn}\n`,
    inputs: ['1', '2'],
  });

test('a broken sandbox: no verdict, one log of why, every later run refused as an infrastructure error', async () => {
  const reasons: string[] = [];
  const g = activitiesFor('grader', { db: tdb.db, sandbox: sb, onSandboxBroken: (r) => reasons.push(r) });
  const env = () => new MockActivityEnvironment();

  // Healthy first: the problem is validated.
  const ok = await problem(1);
  await expect(env().run(g.validateProblem, { problemId: ok.id })).resolves.toEqual({ valid: true, reason: null });

  // The host breaks: the driver every sandbox binds is gone, and so are the warm pool's
  // pre-started sandboxes (they had bound it already and would still run), so the next run
  // starts a sandbox of its own and that start fails.
  for (const f of fs.readdirSync(stateDir)) if (f.startsWith('driver-')) fs.rmSync(path.join(stateDir, f));
  const idle = (await sb.idleSandboxes()).filter((w) => w.pid > 0); // never kill(-1): that is every process
  for (const w of idle) process.kill(w.pid, 'SIGKILL');
  for (const w of idle) while (fs.existsSync(`/proc/${w.pid}`)) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200)); // their exit events reach the pool
  const p = await problem(2);
  const err = await env()
    .run(g.validateProblem, { problemId: p.id })
    .then(
      () => null,
      (e: unknown) => e as { type?: string; message: string; nonRetryable?: boolean },
    );
  expect(err).toMatchObject({ type: ERR.sandboxInfra, message: expect.stringMatching(/sandbox is broken .*records no verdict/) });
  expect(err?.nonRetryable).toBeFalsy(); // retried, on another grader
  expect(reasons).toHaveLength(1);
  expect(reasons[0]).toMatch(/probe|driver|No such file|failed/i);
  // No verdict recorded: the problem is as the teacher left it.
  expect((await getProblem(tdb.db, p.id)).status).toBe('proposed');

  // Later tasks on this host are refused without running anything, and the reason is said once.
  await expect(env().run(g.validateProblem, { problemId: p.id })).rejects.toMatchObject({ type: ERR.sandboxInfra });
  expect(reasons).toHaveLength(1);
  expect((await getProblem(tdb.db, p.id)).status).toBe('proposed');
}, 60_000);
