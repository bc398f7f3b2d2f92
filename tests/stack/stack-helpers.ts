/**
 * Real `cairn` processes for the stack tests. Each runs in its own process group, so whatever it
 * starts (Temporal dev server, workers) can be killed together even when a test fails or times
 * out, and "nothing left behind" is a check on that group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export interface CairnRun {
  child: ChildProcess;
  /** stdout and stderr, interleaved as they came. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** The exit code, or 'still running' after `timeoutMs` (the process is left to killAll). */
  exitWithin(timeoutMs: number): Promise<number | null | 'still running'>;
  /** Waits until the output matches `re`; rejects with the output so far after `timeoutMs` or at the exit. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** SIGKILLs the whole process group and waits (up to 5 s) until none of it is alive. */
  killAll(): Promise<void>;
}

/** Starts `node <checkout>/scripts/cairn.js ...args` as the leader of a new process group. */
export function startCairn(args: string[], env: NodeJS.ProcessEnv, root = ROOT): CairnRun {
  const child = spawn(process.execPath, [path.join(root, 'scripts/cairn.js'), ...args], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const add = (d: Buffer): void => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // 'close': the exit and all of its output (data can still arrive after 'exit').
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const pgid = child.pid ?? -1;
  return {
    child,
    output: () => out,
    exited,
    exitWithin: (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'still running'>((r) => (timer = setTimeout(() => r('still running'), timeoutMs)));
      return Promise.race([exited, late]).finally(() => clearTimeout(timer));
    },
    waitFor: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = out.match(re);
          if (!m) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} in the output of cairn ${args.join(' ')} after ${timeoutMs / 1000} s:\n${out}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
        // A process that is gone will not print it: fail now, with what it said.
        void closed.then((code) => {
          if (!waiters.has(check)) return;
          check();
          if (!waiters.has(check)) return;
          done();
          reject(new Error(`cairn ${args.join(' ')} exited (code ${code}) without printing ${re}:\n${out}`));
        });
      }),
    killAll: async () => {
      if (pgid <= 0) return;
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* the group is already gone */
      }
      for (let i = 0; i < 100 && groupMembers(pgid).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

/** Live (non-zombie) processes of process group `pgid`, as "pid name". */
export function groupMembers(pgid: number): string[] {
  const found: string[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, , pg] = stat.slice(close + 2).split(' ');
      if (Number(pg) === pgid && state !== 'Z') found.push(`${name} ${stat.slice(stat.indexOf('(') + 1, close)}`);
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** process.env without the Cairn settings a developer may have exported, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(CAIRN_|TEMPORAL_ADDRESS|TEMPORAL_NAMESPACE|TEMPORAL_API_KEY|TEMPORAL_TLS|DATABASE_URL|OPENAI_API_KEY)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}
