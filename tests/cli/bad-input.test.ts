/**
 * Bad input gets a one-paragraph error naming the input and the fix, a non-zero exit, and nothing
 * half-written: the real `cairn` command against real (or deliberately absent) services.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'drizzle-orm';
import { createSimServer } from '../../scripts/sim';
import { createTestDb, type TestDb } from '../helpers/db';
import { startTestEnv } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bad-'));
const KEY = 'sk-bad-input-secret-123';
let env: TestWorkflowEnvironment;
let tdb: TestDb;
let sim: Awaited<ReturnType<typeof createSimServer>>;
let seeds: string;

beforeAll(async () => {
  [env, tdb, sim] = await Promise.all([startTestEnv(), createTestDb('bad'), createSimServer({ port: 0, apiKey: KEY })]);
  seeds = path.join(tmp, 'seeds.jsonl');
  fs.writeFileSync(seeds, '{"id":"a","snippet":"def f(x):\\n    return x"}\n');
}, 120_000);
afterAll(async () => {
  await sim?.close();
  await tdb?.drop();
  await env?.teardown();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function cairn(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  const childEnv = {
    ...process.env, DATABASE_URL: tdb.url, TEMPORAL_ADDRESS: env.address, CAIRN_TEACHER_BASE_URL: sim.url, CAIRN_STUDENT_BASE_URL: sim.url,
    CAIRN_TEACHER_API_KEY: KEY, CAIRN_STUDENT_API_KEY: KEY, ...extra,
  };
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(ROOT, 'scripts/cairn.js'), ...args], { cwd: ROOT, env: childEnv });
    let out = '';
    c.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    c.once('exit', (code) => resolve({ code, out }));
  });
}

async function batches(): Promise<number> {
  return Number((await tdb.db.execute(sql.raw('select count(*) n from batches'))).rows[0]?.n);
}

const start = (...more: string[]) => ['batch', 'start', '--seeds', seeds, '--batch', 'bad', ...more];

test.each([
  ['malformed seed file', () => { fs.writeFileSync(path.join(tmp, 'm.jsonl'), '{"id":"a","snippet":"x"}\n{oops\n'); return ['batch', 'start', '--seeds', path.join(tmp, 'm.jsonl')]; }, {}, /m\.jsonl:2: not valid JSON/],
  ['unreadable seed file', () => ['batch', 'start', '--seeds', path.join(tmp, 'missing.jsonl')], {}, /missing\.jsonl does not exist\. Make one with `npx cairn seeds cut/],
  ['unknown environment', () => start('--env', 'poetry'), {}, /--env poetry: unknown environment "poetry"; choose from induction/],
  ['M < 1', () => start('--attempts', '0'), {}, /--attempts must be a whole number >= 1/],
  ['turns < 1', () => start('--turns', '0'), {}, /--turns must be a whole number >= 1/],
  ['unreachable endpoint', () => start(), { CAIRN_TEACHER_BASE_URL: 'http://127.0.0.1:9/v1' }, /teacher endpoint http:\/\/127\.0\.0\.1:9\/v1 is unreachable.*set CAIRN_TEACHER_BASE_URL; nothing was written/],
  ['bad key', () => start(), { CAIRN_STUDENT_API_KEY: 'sk-wrong' }, /student endpoint .* refused the API key \(401\)\. Set CAIRN_STUDENT_API_KEY/],
  ['unknown model', () => start(), { CAIRN_TEACHER_MODEL: 'gpt-nope' }, /does not serve model "gpt-nope".*Set CAIRN_TEACHER_MODEL/],
  ['Postgres down', () => start(), { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/cairn' }, /Cannot reach Postgres at DATABASE_URL .*set DATABASE_URL=/s],
  ['Temporal down', () => start(), { TEMPORAL_ADDRESS: '127.0.0.1:9' }, /Cannot reach Temporal at 127\.0\.0\.1:9.*npx cairn dev/s],
])('%s: clear error, non-zero exit, nothing written', async (_name, args, extra, re) => {
  const r = await cairn(args(), extra);
  expect(r.out).toMatch(re);
  expect(r.code).not.toBe(0);
  expect(r.out).not.toContain(KEY);
  expect(await batches()).toBe(0);
}, 60_000);
