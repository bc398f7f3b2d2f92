/**
 * The batch API client and collector against the simulator's /v1/files + /v1/batches over HTTP,
 * on a real Postgres, one collector tick at a time: answers land in the llm_calls cache, files
 * respect the request and byte limits, a crash between a provider step and its record never
 * submits a file twice, refused lines are the request's outcome, failed batches are re-queued.
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'drizzle-orm';
import type { ChatMessage } from '../../activities/environments/induction';
import { createBatchLlmClient } from '../../activities/llm/batch-api/batch-client';
import { startBatchCollector, type Collector, type CollectorEndpoint } from '../../activities/llm/batch-api/batch-collector';
import { fileKeyOf, packFile, parseResults } from '../../activities/llm/batch-api/batch-lines';
import { createDb } from '../../db/client';
import { createSimServer, type SimServer } from '../../scripts/sim';
import { ERR } from '../../workflows/contracts';
import { createTestDb, type TestDb } from '../helpers/db';

let tdb: TestDb;
let sim: SimServer;
let pg: ReturnType<typeof createDb>;
const collectors: Collector[] = [];
beforeAll(async () => {
  [tdb, sim] = await Promise.all([createTestDb('bcoll'), createSimServer({ port: 0, seed: 7, batchDelayMs: 0 })]);
  pg = createDb(tdb.url, { max: 4 });
}, 60_000);
afterAll(async () => {
  await Promise.all(collectors.map((c) => c.stop()));
  await pg?.pool.end();
  await Promise.all([tdb?.drop(), sim?.close()]);
});

let promptNo = 0;
const prompt = (pad = 0): ChatMessage[] => [
  {
    role: 'user',
    content: `# Environment: deduction\n\n## Code\n\n\`\`\`python\ndef f(x):\n    return x + ${++promptNo}${' '.repeat(pad)}\n\`\`\`\n\n## Input\n\n\`\`\`input\n1\n\`\`\``,
  },
];

function endpoint(o: Partial<CollectorEndpoint['batch']> = {}, model = 'sim-student'): CollectorEndpoint {
  return {
    baseURL: sim.url,
    model,
    apiKey: 'k',
    concurrency: 1,
    sampleConcurrency: 1,
    extraBody: {},
    useN: true,
    timeoutMs: 10_000,
    batch: { maxRequests: 50_000, maxBytes: 200_000_000, collectMs: 0, pollMs: 100, completionWindow: '24h', ...o },
  };
}

/** A collector driven by hand (no loop of its own), signalling nobody (no waiting workflow here). */
function collector(role: string, ep: CollectorEndpoint): Collector {
  const temporal = { workflow: { getHandle: () => ({ signal: async () => undefined }) } } as unknown as Client;
  const c = startBatchCollector({ db: pg.db, pool: pg.pool, role, ep, temporal, loop: false });
  collectors.push(c);
  return c;
}

async function pendingOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return (err as ApplicationFailure).type ?? '';
}

const n = async (q: string) => Number((await tdb.db.execute(sql.raw(q))).rows[0]?.n);
const settle = () => new Promise((r) => setTimeout(r, 150));

test('packFile: limits by requests and bytes, waits for collectMs unless full', () => {
  const rs = Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, bytes: 100 }));
  expect(packFile(rs, { maxRequests: 2, maxBytes: 1000 }, 0, 60_000)?.map((r) => r.id)).toEqual(['r0', 'r1']);
  expect(packFile(rs, { maxRequests: 10, maxBytes: 250 }, 0, 60_000)?.map((r) => r.id)).toEqual(['r0', 'r1']);
  expect(packFile(rs, { maxRequests: 10, maxBytes: 10_000 }, 0, 60_000)).toBeNull(); // not full, not old enough
  expect(packFile(rs, { maxRequests: 10, maxBytes: 10_000 }, 60_000, 60_000)).toHaveLength(5);
  expect(fileKeyOf('student', ['b', 'a'])).toBe(fileKeyOf('student', ['a', 'b']));
  const lines = parseResults(
    [
      JSON.stringify({ custom_id: 'x', response: { status_code: 200, body: { choices: [] } }, error: null }),
      'garbage',
      JSON.stringify({ custom_id: 'y', response: { status_code: 400, body: { error: { message: 'too long' } } }, error: null }),
    ].join('\n'),
  );
  expect(lines).toEqual([
    { customId: 'x', ok: true, body: { choices: [] } },
    { customId: 'y', ok: false, status: 400, message: 'too long' },
  ]);
});

test('queued samples go out in one file; the answers land in llm_calls and the next call is served from them', async () => {
  const ep = endpoint();
  const client = createBatchLlmClient(pg.db, 'student', ep);
  const c = collector('student', ep);
  const a = prompt();
  const b = prompt();
  expect(await pendingOf(client.complete(a, { n: 4 }))).toBe(ERR.llmBatchPending);
  expect(await pendingOf(client.complete(b, { n: 2 }))).toBe(ERR.llmBatchPending);
  // Asking again while it waits queues nothing more.
  expect(await pendingOf(client.complete(a, { n: 4 }))).toBe(ERR.llmBatchPending);
  const before = sim.batches();
  expect(await c.tick()).toBe(true);
  await settle();
  expect(await c.tick()).toBe(true);
  const after = sim.batches();
  expect(after.batches - before.batches).toBe(1);
  expect(after.linesPerFile.at(-1)).toBe(2);
  const ra = await client.complete(a, { n: 4 });
  expect(ra.choices).toHaveLength(4);
  const rb = await client.complete(b, { n: 2 });
  expect(rb.choices).toHaveLength(2);
  expect(sim.stats().requests).toBe(0); // nothing online
  expect(after.samples.student - before.samples.student).toBe(6);
  expect(await n(`select count(*) n from llm_calls where request->'params'->>'batch' is not null`)).toBeGreaterThanOrEqual(6);
});

test('limits: files of at most maxRequests lines and maxBytes bytes; a request over maxBytes is refused with the setting named', async () => {
  const ep = endpoint({ maxRequests: 2, maxBytes: 5000 });
  const client = createBatchLlmClient(pg.db, 'teacher', { ...ep, model: 'sim-teacher' });
  const c = collector('teacher', { ...ep, model: 'sim-teacher' });
  for (let i = 0; i < 5; i++) expect(await pendingOf(client.complete(prompt(), { n: 1 }))).toBe(ERR.llmBatchPending);
  const before = sim.batches().linesPerFile.length;
  await c.tick();
  expect(sim.batches().linesPerFile.slice(before)).toEqual([2, 2, 1]);
  expect(await n(`select max(requests) n from llm_batch_files where role = 'teacher'`)).toBe(2);
  expect(await n(`select max(bytes) n from llm_batch_files where role = 'teacher'`)).toBeLessThanOrEqual(5000);
  const big = await client.complete(prompt(6000), { n: 1 }).catch((e: ApplicationFailure) => e);
  expect(big).toBeInstanceOf(ApplicationFailure);
  expect((big as ApplicationFailure).type).toBe(ERR.llmRequestInvalid);
  expect((big as ApplicationFailure).message).toContain('CAIRN_TEACHER_BATCH_MAX_BYTES=5000');
});

test('a crash after uploading or after submitting, before the id is recorded, never submits the file twice', async () => {
  const ep = endpoint();
  const role = 'crashy';
  const client = createBatchLlmClient(pg.db, role, ep);
  const c = collector(role, ep);
  const msgs = prompt();
  await pendingOf(client.complete(msgs, { n: 3 }));
  await c.tick();
  const s1 = sim.batches();
  const [file] = (await tdb.db.execute(sql.raw(`select key, file_id, batch_id from llm_batch_files where role = '${role}'`))).rows as {
    key: string;
    file_id: string;
    batch_id: string;
  }[];
  expect(file?.batch_id).toBeTruthy();
  // As if the collector died right after the upload: the row is still 'open', no file id.
  await tdb.db.execute(sql.raw(`update llm_batch_files set state = 'open', file_id = null, batch_id = null where key = '${file?.key}'`));
  await c.tick();
  // As if it died right after creating the batch: 'uploaded', no batch id.
  await tdb.db.execute(sql.raw(`update llm_batch_files set state = 'uploaded', batch_id = null where key = '${file?.key}'`));
  await c.tick();
  const s2 = sim.batches();
  expect(s2.files).toBe(s1.files);
  expect(s2.batches).toBe(s1.batches);
  expect(s2.batchesPerFile[file?.file_id ?? '']).toBe(1);
  await settle();
  await c.tick();
  expect((await client.complete(msgs, { n: 3 })).choices).toHaveLength(3);
  expect(
    await n(`select count(*) n from llm_batch_files where role = '${role}' and state = 'collected' and batch_id = '${file?.batch_id}'`),
  ).toBe(1);
});

test('a refused line is that request’s outcome; a batch that fails validation is re-queued, then given up with the reason', async () => {
  const bad = endpoint({}, 'no-such-model');
  const client = createBatchLlmClient(pg.db, 'refused', bad);
  const c = collector('refused', bad);
  const msgs = prompt();
  await pendingOf(client.complete(msgs, { n: 1 }));
  await c.tick();
  await settle();
  await c.tick();
  const err = (await client.complete(msgs, { n: 1 }).catch((e: unknown) => e)) as ApplicationFailure;
  expect(err.type).toBe(ERR.llmRequestInvalid);
  expect(err.message).toMatch(/404: The model `no-such-model` does not exist/);

  // The provider's own limit is lower than Cairn's setting: every batch fails validation.
  sim.configure({ batchMaxRequests: 1 });
  try {
    const ep = endpoint({ maxRequests: 2 });
    const client2 = createBatchLlmClient(pg.db, 'toolarge', ep);
    const c2 = collector('toolarge', ep);
    const m1 = prompt();
    await pendingOf(client2.complete(m1, { n: 1 }));
    await pendingOf(client2.complete(prompt(), { n: 1 }));
    for (let i = 0; i < 6; i++) {
      await c2.tick();
      await settle();
    }
    expect(await n(`select count(*) n from llm_batch_files where role = 'toolarge' and state = 'failed'`)).toBe(5);
    const e2 = (await client2.complete(m1, { n: 1 }).catch((e: unknown) => e)) as ApplicationFailure;
    expect(e2.type).toBe(ERR.llmRequestInvalid);
    expect(e2.message).toMatch(/no answer after 5 batch files .*more than the limit of 1 per batch/);
  } finally {
    sim.configure({ batchMaxRequests: 50_000 });
  }
});
