/**
 * What a test file starts, so that nothing outlives it: child processes (each in a process group of
 * its own, so one kill reaches everything it started) and in-process services (dev servers,
 * simulators, databases, sandboxes). tests/cleanup-environment.js closes what is still open after
 * each test (what that test started) and after the file (what beforeAll started), including when
 * a test or hook timed out; an interrupted run (SIGINT/SIGTERM/SIGHUP, or exit) SIGKILLs every group.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

type Scope = 'test' | 'file';
interface Entry {
  name: string;
  scope: Scope;
  close: () => Promise<void>;
  leftover: () => boolean;
}

/** Set by tests/cleanup-environment.js, which also SIGKILLs these groups if the run is interrupted. */
const g = globalThis as { __cairnPhase?: Scope; __cairnCleanup?: (scope: Scope) => Promise<void>; __cairnGroups?: Set<number> };
const groups: Set<number> = g.__cairnGroups ?? new Set<number>();
const entries = new Set<Entry>();
let fileDone = false;

/**
 * Registers `close` to run when the current test (or, outside a test, the file) ends. Returns an
 * unregister function. Registered after the file ended (a hook that timed out and resolved later):
 * closed at once.
 */
export function onCleanup(name: string, close: () => Promise<void> | void, leftover: () => boolean = () => true): () => void {
  const e: Entry = {
    name,
    scope: g.__cairnPhase === 'test' ? 'test' : 'file',
    close: async () => {
      await close();
    },
    leftover,
  };
  if (fileDone) {
    e.close().catch(() => undefined);
    return () => undefined;
  }
  entries.add(e);
  return () => {
    entries.delete(e);
  };
}

/**
 * Makes `obj[method]` (teardown, close, stop, drop) idempotent and registers it; the test's own
 * call unregisters it. Returns `obj`.
 */
export function tracked<T extends object, K extends keyof T>(name: string, obj: T, method: K): T {
  const orig = obj[method] as unknown as () => Promise<void> | void;
  let once: Promise<void> | undefined;
  let unregister: () => void = () => undefined;
  const closeOnce = (): Promise<void> => {
    unregister();
    once ??= Promise.resolve().then(() => orig.call(obj));
    return once;
  };
  (obj as Record<K, unknown>)[method] = closeOnce;
  unregister = onCleanup(name, closeOnce);
  return obj;
}

/** Live pids whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] !== 'Z' && Number(f[2]) === pgid) out.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** True while a live (non-zombie) process is in group `pgid`; the signal-0 probe is the cheap common case. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  return groupMembers(pgid).length > 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a tracked child and everything in its process group: SIGTERM to the child alone first
 * (so a script can stop its own children and drop its database), SIGKILL to the whole group after
 * `graceMs` or once the child exited, then waits (bounded) until no member is left.
 */
export async function killGroup(child: ChildProcess, graceMs = 3000): Promise<void> {
  const pgid = child.pid;
  if (!pgid) return;
  if (child.exitCode === null && child.signalCode === null) {
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(pgid, 'SIGTERM');
    } catch {
      /* gone */
    }
    // The grace timer is cleared once the child is gone: a pending one would hold jest open.
    await Promise.race([
      exited,
      new Promise((r) => {
        timer = setTimeout(r, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      break; // ESRCH: no process of the group is left
    }
    if (!groupAlive(pgid)) break;
    await sleep(50);
  }
  groups.delete(pgid);
}

/**
 * `spawn` in a process group of its own, registered for cleanup. Kill it with killGroup (or
 * `child.kill` when a test means to kill the child alone: the cleanup still reaps the group).
 */
export function spawnTracked(cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { ...opts, detached: true });
  const pid = child.pid;
  if (pid) groups.add(pid);
  const name = `${cmd} ${args.join(' ')}`.slice(0, 200);
  const unregister = onCleanup(
    name,
    () => killGroup(child),
    () => !!pid && groupAlive(pid),
  );
  child.once('exit', () => {
    // Done with it when nothing of its group is left; otherwise the cleanup reaps the rest.
    if (pid && !groupAlive(pid)) {
      groups.delete(pid);
      unregister();
    }
  });
  return child;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** A tracked child's stdout and stderr (interleaved) and exit; `child` is there at once. */
export function runTracked(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Promise<RunResult> & { child: ChildProcess } {
  const child = spawnTracked(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const done = new Promise<RunResult>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, out }));
  });
  return Object.assign(done, { child });
}

/** Called by tests/cleanup-environment.js after each test ('test') and after the file ('file'). */
g.__cairnCleanup = async (scope: Scope): Promise<void> => {
  const due = [...entries].filter((e) => scope === 'file' || e.scope === 'test').reverse();
  for (const e of due) entries.delete(e);
  if (scope === 'file') fileDone = true;
  for (const e of due) {
    if (e.leftover()) process.stderr.write(`[test cleanup] closing what the ${e.scope} left open: ${e.name}\n`);
    await e.close().catch((err: unknown) => process.stderr.write(`[test cleanup] ${e.name}: ${String(err)}\n`));
  }
};
