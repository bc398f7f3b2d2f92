/**
 * Bad input gets a one-paragraph error naming the input and the fix, a non-zero exit, and nothing
 * half-written: the real `cairn` command against real (or deliberately absent) services.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'drizzle-orm';
import type { createSimServer } from '../../scripts/sim';
import { createTestDb, type TestDb } from '../helpers/db';
import { runTracked } from '../helpers/tracked-processes';
import { startTestSim } from '../helpers/stack';
import { startTestEnv } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bad-'));
const KEY = 'sk-bad-input-secret-123';
let env: TestWorkflowEnvironment;
let tdb: TestDb;
let sim: Awaited<ReturnType<typeof createSimServer>>;
let seeds: string;

beforeAll(async () => {
  [env, tdb, sim] = await Promise.all([startTestEnv(), createTestDb('bad'), startTestSim({ port: 0, apiKey: KEY })]);
  seeds = path.join(tmp, 'seeds.jsonl');
  fs.writeFileSync(seeds, '{"id":"a","snippet":"def f(x):\\n    return x"}\n');
}, 120_000);
afterAll(async () => {
  await sim?.close();
  await tdb?.drop();
  await env?.teardown();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function cairn(args: string[], extra: NodeJS.ProcessEnv = {}): ReturnType<typeof runTracked> {
  const childEnv = {
    ...process.env,
    DATABASE_URL: tdb.url,
    TEMPORAL_ADDRESS: env.address,
    CAIRN_TEACHER_BASE_URL: sim.url,
    CAIRN_STUDENT_BASE_URL: sim.url,
    CAIRN_TEACHER_API_KEY: KEY,
    CAIRN_STUDENT_API_KEY: KEY,
    ...extra,
  };
  return runTracked(process.execPath, [path.join(ROOT, 'scripts/cairn.js'), ...args], { cwd: ROOT, env: childEnv });
}

async function batches(): Promise<number> {
  return Number((await tdb.db.execute(sql.raw('select count(*) n from batches'))).rows[0]?.n);
}

const start = (...more: string[]) => ['batch', 'start', '--seeds', seeds, '--batch', 'bad', ...more];

const CASES: Array<[string, () => string[], NodeJS.ProcessEnv, RegExp]> = [
  [
    'malformed seed file',
    () => {
      fs.writeFileSync(path.join(tmp, 'm.jsonl'), '{"id":"a","snippet":"x"}\n{oops\n');
      return ['batch', 'start', '--seeds', path.join(tmp, 'm.jsonl')];
    },
    {},
    /m\.jsonl:2: not valid JSON/,
  ],
  [
    'unreadable seed file',
    () => ['batch', 'start', '--seeds', path.join(tmp, 'missing.jsonl')],
    {},
    /missing\.jsonl does not exist\. Make one with `npx cairn seeds cut/,
  ],
  ['unknown environment', () => start('--env', 'poetry'), {}, /--env poetry: unknown environment "poetry"; choose from induction/],
  ['M < 1', () => start('--attempts', '0'), {}, /--attempts must be a whole number >= 1/],
  ['turns < 1', () => start('--turns', '0'), {}, /--turns must be a whole number >= 1/],
  [
    'unreachable endpoint',
    () => start(),
    { CAIRN_TEACHER_BASE_URL: 'http://127.0.0.1:9/v1' },
    /teacher endpoint http:\/\/127\.0\.0\.1:9\/v1 is unreachable.*set CAIRN_TEACHER_BASE_URL; nothing was written/,
  ],
  [
    'bad key',
    () => start(),
    { CAIRN_STUDENT_API_KEY: 'sk-wrong' },
    /student endpoint .* refused the API key \(401\)\. Set CAIRN_STUDENT_API_KEY/,
  ],
  ['unknown model', () => start(), { CAIRN_TEACHER_MODEL: 'gpt-nope' }, /does not serve model "gpt-nope".*Set CAIRN_TEACHER_MODEL/],
  [
    'Postgres down',
    () => start(),
    { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/cairn' },
    /Cannot reach Postgres at DATABASE_URL .*set DATABASE_URL=/s,
  ],
  ['Temporal down', () => start(), { TEMPORAL_ADDRESS: '127.0.0.1:9' }, /Cannot reach Temporal at 127\.0\.0\.1:9.*npx cairn dev/s],
];

// Each case is a `cairn` process (about 2 s of CPU to start, and 5 s of connect timeout for
// Temporal down), run three at a time before the tests judge them: a third of the wall time.
// A case still running after 90 s is killed (its test then fails on the output it has).
const results = new Map<string, { code: number | null; out: string }>();
beforeAll(async () => {
  let next = 0;
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      for (let c = CASES[next++]; c; c = CASES[next++]) {
        const [name, args, extra] = c;
        const run = cairn(args(), extra);
        const timer = setTimeout(() => run.child.kill('SIGKILL'), 90_000);
        results.set(name, await run.finally(() => clearTimeout(timer)));
      }
    }),
  );
}, 240_000);

test.each(CASES)('%s: clear error, non-zero exit, nothing written', async (name, _args, _extra, re) => {
  const r = results.get(name);
  expect(r?.out).toMatch(re);
  expect(r?.code).not.toBe(0);
  expect(r?.out).not.toContain(KEY);
  expect(await batches()).toBe(0); // after every case has run
});
