/**
 * A real model end to end: `cairn demo --llm local` (2 seeds, 2 turns, M = 2) as a real process,
 * on the real stack (Temporal dev server on free ports, a fresh Postgres database, worker
 * processes, the sandbox) with SmolLM2-135M-Instruct served by llama.cpp's own server on CPU
 * (installed from PyPI into .tools/llm-venv on first use). What a person sees is the usual
 * summary, with the reasons the teacher's problems were invalid; the database says every call was
 * the local model's, streamed, with exact usage and a finish reason. Slow tier: minutes on CPU.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { createTestDb, type TestDb } from '../helpers/db';
import { temporalCliPath } from '../helpers/temporal';
import { cleanEnv, freePort, groupMembers, startCairn, type CairnRun } from '../stack/stack-helpers';

let tdb: TestDb;
let tmp: string;
let run: CairnRun | undefined;

beforeAll(async () => {
  tdb = await createTestDb('localllm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-local-llm-'));
});
afterAll(async () => {
  await run?.killAll();
  await tdb?.drop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test(
  'demo --llm local: a real model runs 2 seeds x 2 turns at M=2 and the demo exits 0 with the summary',
  async () => {
    const [temporal, ui, sim] = [await freePort(), await freePort(), await freePort()];
    const env = cleanEnv({
      CAIRN_DATA_DIR: path.join(tmp, 'data'),
      DATABASE_URL: tdb.url,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
      CAIRN_TEMPORAL_UI: `http://localhost:${ui}`,
      CAIRN_SIM_PORT: String(sim),
      TEMPORAL_CLI: temporalCliPath(),
    });
    run = startCairn(['demo', '--llm', 'local', '--seeds', '2', '--turns', '2', '--attempts', '2', '--cut-seed', '7'], env);
    const code = await run.exitWithin(40 * 60_000);
    const out = run.output();
    expect({ code, tail: out.slice(-3000) }).toMatchObject({ code: 0 });
    expect(out).toMatch(/\[demo\] local model SmolLM2-135M-Instruct\S* \(.*\.gguf\) served by llama\.cpp on http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(out).toMatch(/2 seeds x 2 turns, M=2/);
    expect(out).toMatch(/batch \S+: 2 seeds \(done 2, running 0, pending 0, failed 0\)/);
    expect(out).toMatch(/ {2}turn 1: 2 problems, \d+ valid, \d+ invalid/);
    expect(out).toMatch(/ {2}turn 2: 2 problems, \d+ valid, \d+ invalid/);
    // A 135M model rarely writes a valid problem: the reasons are what a person reads.
    const invalid = [...out.matchAll(/turn \d: 2 problems, \d+ valid, (\d+) invalid/g)].reduce((n, m) => n + Number(m[1]), 0);
    if (invalid > 0) expect(out).toMatch(/invalid problems, by reason:\n {2}\s*\d+ {2}\S/);
    expect(out).toMatch(/LLM calls paid: \d+ \(teacher 4, student \d+\)/);

    const calls = await tdb.db.execute<{
      model: string;
      role: string;
      finish_reason: string | null;
      completion_tokens: number;
      params: { max_tokens?: number };
    }>(sql`select model, role, finish_reason, completion_tokens, request->'params' as params from llm_calls`);
    expect(calls.rows.length).toBeGreaterThanOrEqual(4);
    for (const c of calls.rows) {
      expect(c.model).toMatch(/^SmolLM2-135M-Instruct/);
      expect(['stop', 'length']).toContain(c.finish_reason);
      expect(c.completion_tokens).toBeGreaterThan(0); // one sample per request: llama.cpp's usage is exact
      expect(c.params.max_tokens).toBe(c.role === 'teacher' ? 1024 : 512);
    }
    const problems = await tdb.db.execute<{ status: string; invalid_reason: string | null }>(
      sql`select status, invalid_reason from problems`,
    );
    expect(problems.rows).toHaveLength(4);
    for (const p of problems.rows.filter((r) => r.status === 'invalid')) expect(p.invalid_reason).toBeTruthy();
    expect(groupMembers(run.child.pid ?? -1)).toEqual([]); // llama.cpp's server, Temporal and the workers all stopped
  },
  45 * 60_000,
);
