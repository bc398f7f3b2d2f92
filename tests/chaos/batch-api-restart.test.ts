/**
 * The provider batch API survives a crash while a batch file is pending at the provider: both
 * roles on CAIRN_<ROLE>_API=batch, workers as real `cairn worker` processes; once a file is
 * submitted and not yet answered (the simulator holds it for batchDelayMs), every worker is
 * SIGKILLed and the Temporal dev server (file-backed) is restarted, then the workers come back.
 * The batch must finish with nothing lost, no file submitted (or uploaded) twice and no sample
 * paid twice. Slow tier (`npm run test:slow`): a minute or so.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { seedCounts } from '../../db/queries/batches';
import { batchApiCounts } from '../../db/queries/llm-batch';
import { startBatch } from '../../scripts/lib/start-batch';
import { cutSeeds, stdlibDir, writeSeedFile } from '../../scripts/lib/seed-file';
import { loadConfig } from '../../workers/config/load-config';
import { connectClient } from '../../workers/config/connect-temporal';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { SEARCH_ATTRIBUTES, batchWorkflowId } from '../../workflows/contracts';
import { createTestDb, type TestDb } from '../helpers/db';
import { startTestSim } from '../helpers/stack';
import { temporalCliPath } from '../helpers/temporal';
import { killGroup, spawnTracked } from '../helpers/tracked-processes';

const ROOT = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bapi-restart-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (m: string) => console.log(`[batch-api restart ${new Date().toISOString().slice(11, 19)}] ${m}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

let tdb: TestDb;
afterAll(async () => {
  await tdb?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('batch API, both roles: workers SIGKILLed and the dev server restarted while a batch file is pending; nothing lost, nothing sent twice', async () => {
  const port = await freePort();
  const temporalArgs = [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    path.join(tmp, 'temporal.db'),
    '--log-level',
    'error',
    ...SEARCH_ATTRIBUTES.flatMap((k) => [
      '--search-attribute',
      `${k.name}=${({ KEYWORD: 'Keyword', INT: 'Int', DOUBLE: 'Double' } as Record<string, string>)[k.type] ?? k.type}`,
    ]),
  ];
  const cli = temporalCliPath();
  let temporal: ChildProcess = spawnTracked(cli, temporalArgs, { stdio: 'ignore' });
  const sim = await startTestSim({ port: 0, seed: 3, batchDelayMs: 60_000 });
  tdb = await createTestDb('bapirestart');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: tdb.url,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    CAIRN_TEACHER_BASE_URL: sim.url,
    CAIRN_STUDENT_BASE_URL: sim.url,
    CAIRN_TEACHER_API: 'batch',
    CAIRN_STUDENT_API: 'batch',
    CAIRN_TEACHER_BATCH_COLLECT_MS: '300',
    CAIRN_STUDENT_BATCH_COLLECT_MS: '300',
    CAIRN_TEACHER_BATCH_POLL_MS: '300',
    CAIRN_STUDENT_BATCH_POLL_MS: '300',
    CAIRN_SHUTDOWN_GRACE_MS: '2000',
  };
  const cfg = loadConfig(env);
  const workers: ChildProcess[] = [];
  const startWorkers = () => {
    for (const q of ['orchestration,grader', 'teacher,student']) {
      const log = fs.openSync(path.join(tmp, `worker-${q}.log`), 'a');
      workers.push(
        spawnTracked(process.execPath, [path.join(ROOT, 'scripts', 'cairn.js'), 'worker', '--queue', q], {
          env,
          stdio: ['ignore', log, log],
        }),
      );
      fs.closeSync(log);
    }
  };
  const connect = () => until('Temporal', () => connectClient(cfg), 60_000);
  let client: Client = await connect();
  startWorkers();
  try {
    const file = path.join(tmp, 'seeds.jsonl');
    writeSeedFile(file, cutSeeds({ from: stdlibDir(), count: 4, minLines: 20, maxLines: 40, ext: '.py', seed: 9 }));
    await startBatch(tdb.db, client, cfg, { seedsFile: file, batchId: 'bapir', turns: 2, attempts: 2, env: 'induction', window: 4 });

    // A file submitted and still pending at the provider.
    const n = async (q: string) => Number((await tdb.db.execute(sql.raw(q))).rows[0]?.n);
    await until(
      'a submitted batch file',
      async () => (await n(`select count(*) n from llm_batch_files where state = 'submitted'`)) > 0,
      120_000,
    );
    const atCrash = sim.batches();
    expect(atCrash.batches).toBeGreaterThan(0);
    expect(atCrash.completed).toBe(0); // pending: the simulator holds it
    say(`${atCrash.batches} batch(es) pending at the provider; SIGKILL every worker`);
    await Promise.all(
      workers.splice(0).map(async (w) => {
        const gone = new Promise((r) => w.once('exit', r));
        process.kill(-(w.pid as number), 'SIGKILL');
        await gone;
      }),
    );
    say('restart the Temporal dev server');
    await client.connection.close().catch(() => undefined);
    await killGroup(temporal, 10_000);
    temporal = spawnTracked(cli, temporalArgs, { stdio: 'ignore' });
    client = await connect();
    expect(sim.batches().completed).toBe(0); // still pending through both faults
    // The provider finishes it now; the restarted workers collect it and the seeds go on.
    sim.configure({ batchDelayMs: 500 });
    startWorkers();
    const handle = client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('bapir'));
    const result = await until('the batch result', () => handle.result(), 240_000);
    expect(result).toEqual({ started: 4, finished: 4, failed: 0, cancelled: false });
    expect(await seedCounts(tdb.db, 'bapir')).toEqual({ pending: 0, running: 0, done: 4, failed: 0 });

    const b = sim.batches();
    say(
      `batch API: ${b.batches} batches, lines per file ${JSON.stringify(b.linesPerFile)}, ${b.samples.teacher + b.samples.student} samples`,
    );
    expect(Object.values(b.batchesPerFile).every((c) => c === 1)).toBe(true); // never a file submitted twice
    expect(b.linesPerFile).toHaveLength(b.batches); // nor uploaded twice
    expect(sim.stats().requests).toBe(0); // nothing online
    // Every sample served is one cached row: none paid twice, none lost.
    expect(await n('select count(*) n from llm_calls')).toBe(b.samples.teacher + b.samples.student);
    expect(await n('select count(*) n from (select 1 from llm_calls group by request_hash having count(*) > 1) x')).toBe(0);
    expect(await n('select count(*) n from (select 1 from problems group by key having count(*) > 1) x')).toBe(0);
    expect(await n(`select count(*) n from llm_calls where role = 'teacher'`)).toBe(8);
    const counts = await batchApiCounts(tdb.db);
    expect(Object.keys(counts.requests).filter((k) => !k.endsWith('/done'))).toEqual([]);
  } finally {
    await Promise.all(workers.map((w) => killGroup(w, 3000)));
    await client.connection.close().catch(() => undefined);
    await killGroup(temporal, 5000);
    await sim.close();
  }
}, 420_000);
