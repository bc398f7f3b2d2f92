/**
 * Watches the embedded stack's child processes (the Temporal dev server, embedded Postgres, one
 * worker per queue). A child that exits while the stack is not stopping is reported at once with
 * the last lines its log got since it started; then it is either restarted with exponential
 * backoff (`cairn dev`'s workers) or the exit is fatal (`cairn demo`, and every other child).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

type Say = (m: string) => void;

/** A watched child that exited unexpectedly and will not be restarted. */
export class ChildExitError extends Error {
  override name = 'ChildExitError';
  constructor(
    message: string,
    readonly child: string,
    readonly logFile: string,
    readonly tail: string,
  ) {
    super(message);
  }
}

export interface Backoff {
  firstMs: number;
  maxMs: number;
  /** A run at least this long was healthy: the next crash waits firstMs again. */
  resetAfterMs: number;
}

/** 1 s, 2 s, 4 s ... 30 s; after a run of a minute or more, 1 s again. */
export const DEFAULT_BACKOFF: Backoff = { firstMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

/** The last `maxLines` non-empty lines written to `file` after byte `offset`; '' when none. */
export function logTail(file: string, offset = 0, maxLines = 15, maxBytes = 16_384): string {
  let fd: number | undefined;
  try {
    const size = fs.statSync(file).size;
    const start = Math.max(offset, size - maxBytes);
    if (size <= start) return '';
    const buf = Buffer.alloc(size - start);
    fd = fs.openSync(file, 'r');
    fs.readSync(fd, buf, 0, buf.length, start);
    return buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-maxLines)
      .join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Bytes in `file` now (where the next child's output starts); 0 when it does not exist. */
export function logOffset(file: string): number {
  return fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
}

/** SIGTERM (workers drain), then SIGKILL after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const shown = (file: string): string => path.relative(process.cwd(), file) || file;

interface Entry {
  name: string;
  logFile: string;
  /** Set for children this watcher started (and may restart). */
  spawn?: () => ChildProcess;
  restart: boolean;
  child: ChildProcess;
  offset: number;
  startedAt: number;
  /** Consecutive crashes of runs shorter than backoff.resetAfterMs. */
  crashes: number;
  restarts: number;
  timer?: NodeJS.Timeout;
}

export interface WatcherOptions {
  say: Say;
  backoff?: Backoff;
  /**
   * How long an exit waits before it counts as unexpected. Ctrl-C reaches every process of the
   * terminal's group at once, so a child may exit on its own SIGINT just before ours is handled.
   */
  settleMs?: number;
}

export class StackWatcher {
  private stopping = false;
  private readonly entries: Entry[] = [];
  private onFatal!: (e: ChildExitError) => void;
  /** The first fatal exit. Resolves (never rejects), so nothing breaks when nobody listens. */
  readonly fatal: Promise<ChildExitError>;
  private readonly say: Say;
  private readonly backoff: Backoff;
  private readonly settleMs: number;

  constructor(opts: WatcherOptions) {
    this.say = opts.say;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.settleMs = opts.settleMs ?? 300;
    this.fatal = new Promise((resolve) => (this.onFatal = resolve));
  }

  /**
   * Starts a child with `spawn` (which points its output at `logFile`) and watches it; with
   * `restart`, an unexpected exit starts it again after the backoff instead of being fatal.
   */
  start(name: string, logFile: string, spawn: () => ChildProcess, restart: boolean): ChildProcess {
    const offset = logOffset(logFile);
    const e: Entry = { name, logFile, spawn, restart, child: spawn(), offset, startedAt: Date.now(), crashes: 0, restarts: 0 };
    this.entries.push(e);
    this.attach(e);
    return e.child;
  }

  /** Watches a child started elsewhere (never restarted); `offset`: where its log output starts. */
  watch(name: string, logFile: string, child: ChildProcess, offset = 0): void {
    const e: Entry = { name, logFile, restart: false, child, offset, startedAt: Date.now(), crashes: 0, restarts: 0 };
    this.entries.push(e);
    this.attach(e);
  }

  /** From now on no exit is unexpected: cancels pending restarts and stops the children it started. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const e of this.entries) if (e.timer) clearTimeout(e.timer);
    await Promise.all(this.entries.filter((e) => e.spawn).map((e) => stopChild(e.child)));
  }

  private attach(e: Entry): void {
    const child = e.child;
    let seen = false;
    const exited = (how: string): void => {
      if (seen || this.stopping) return;
      seen = true;
      setTimeout(() => {
        if (!this.stopping && e.child === child) this.exited(e, how);
      }, this.settleMs);
    };
    child.once('exit', (code, signal) => exited(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    // A child that cannot be spawned at all (ENOENT, EACCES) may never emit 'exit'.
    child.once('error', (err) => exited(`could not run (${err.message})`));
  }

  private exited(e: Entry, how: string): void {
    const ran = Date.now() - e.startedAt;
    const tail = logTail(e.logFile, e.offset);
    const what = `${e.name}${e.child.pid ? ` (pid ${e.child.pid})` : ''} ${how} after ${secs(ran)}`;
    const indented = tail
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n');
    this.say(tail ? `${what}; last lines of ${shown(e.logFile)}:\n${indented}` : `${what}; it wrote nothing to ${shown(e.logFile)}`);
    if (e.restart && e.spawn) {
      e.crashes = ran >= this.backoff.resetAfterMs ? 1 : e.crashes + 1;
      const delay = Math.min(this.backoff.firstMs * 2 ** (e.crashes - 1), this.backoff.maxMs);
      this.say(
        `${e.name}: restarting in ${secs(delay)} (restart ${e.restarts + 1}; the wait doubles up to ${secs(this.backoff.maxMs)} while it keeps failing)`,
      );
      e.timer = setTimeout(() => this.restart(e), delay);
      return;
    }
    const last = tail.split('\n').pop() ?? '';
    this.onFatal(
      new ChildExitError(`${what}${last ? `; the last line of ${shown(e.logFile)}: ${last.trim()}` : ''}`, e.name, e.logFile, tail),
    );
  }

  private restart(e: Entry): void {
    e.timer = undefined;
    if (this.stopping || !e.spawn) return;
    e.offset = logOffset(e.logFile);
    e.startedAt = Date.now();
    e.restarts++;
    try {
      e.child = e.spawn();
    } catch (err) {
      this.onFatal(new ChildExitError(`${e.name} could not be restarted: ${(err as Error).message}`, e.name, e.logFile, ''));
      return;
    }
    this.attach(e);
    this.say(`${e.name} restarted (pid ${e.child.pid ?? '?'})`);
  }
}
