/**
 * Process bookkeeping for user mode, where every sandbox runs as the invoking user: the uid can
 * no longer tell sandbox processes from Cairn's own, so cleanup goes by pid namespace, and
 * RLIMIT_NPROC (which counts every task of the uid host-wide) must leave room for the user's
 * own tasks.
 */
import fs from 'fs';

/**
 * Our own pid namespace's inode number. Pids, and so the liveness of a pid, mean something only
 * within one pid namespace: names and locks that carry a pid carry this too.
 */
export const OWN_PID_NS: string = (() => {
  try {
    return /\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    return '0';
  }
})();

/** bwrap's children (its only one: the sandbox's pid 1, the driver under --as-pid-1), from /proc. */
function childrenOf(outerPid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${outerPid}/task/${outerPid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
      .filter((p) => Number.isInteger(p) && p > 0);
  } catch {
    return [];
  }
}

/** The pid namespace (e.g. 'pid:[4026532181]') of the sandbox whose outer bwrap is `outerPid`. */
export function sandboxPidNs(outerPid: number): string | undefined {
  const mine = nsOf(process.pid);
  for (const kid of childrenOf(outerPid)) {
    const ns = nsOf(kid);
    if (ns && ns !== mine) return ns;
  }
  return undefined;
}

/** The sandbox's pid 1, if bwrap has made it yet. */
export function sandboxInit(outerPid: number | undefined): number | undefined {
  return outerPid ? childrenOf(outerPid)[0] : undefined;
}

/**
 * SIGKILLs a sandbox from the inside out: its pid 1 (the kernel then kills the rest of its pid
 * namespace), so that bwrap reaps it and exits by itself and nothing is handed to our own pid 1
 * to reap. Returns false when there is no pid 1 yet: the caller then kills bwrap and the cgroup.
 * Only while bwrap is not yet reaped: after that its pid may already belong to another process
 * (pids wrap quickly on a busy grader), whose child this would kill.
 */
export function killSandboxInit(outer: { pid?: number; exitCode: number | null; signalCode: NodeJS.Signals | null }): boolean {
  if (outer.exitCode !== null || outer.signalCode !== null) return false;
  const init = sandboxInit(outer.pid);
  if (init === undefined) return false;
  try {
    process.kill(init, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

function nsOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/**
 * SIGKILLs every process left in pid namespace `ns` and waits until none is alive. Killing the
 * namespace's pid 1 makes the kernel kill the rest, so this normally returns on the first look.
 */
export function waitNsGone(ns: string, timeoutMs = 3000): Promise<boolean> {
  return killUntilGone(() => pidsInNs(ns), timeoutMs);
}

/** SIGKILLs what `list` returns until it returns nothing (true) or the time is up (false). */
export async function killUntilGone(list: () => number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = list();
    if (pids.length === 0) return true;
    if (Date.now() > deadline) return false;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

function pidsInNs(ns: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || nsOf(Number(name)) !== ns) continue;
    try {
      if (/^State:\s+Z/m.test(fs.readFileSync(`/proc/${name}/status`, 'utf8'))) continue; // zombie: already dead
    } catch {
      continue;
    }
    out.push(Number(name));
  }
  return out;
}

/** Tasks (threads included: RLIMIT_NPROC counts each) of a host uid, read from /proc. */
export function tasksOfUid(uid: number): number {
  let n = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = fs.readFileSync(`/proc/${name}/status`, 'utf8');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid) n += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    } catch {
      /* exited meanwhile */
    }
  }
  return n;
}

/**
 * Host-level RLIMIT_NPROC for user-mode sandboxes: the user's own tasks (recounted at most every
 * `ttlMs`) plus `extra`. Too low and bwrap cannot even fork its pid 1. Each sandbox is capped
 * much lower by the driver (counted per user namespace), so this is only the uid-wide backstop.
 */
export class UserNproc {
  private value = 0;
  private at = 0;

  constructor(
    private readonly uid: number,
    private readonly extra: number,
    private readonly ttlMs = 2000,
  ) {}

  get(): number {
    const now = Date.now();
    if (now - this.at > this.ttlMs) {
      this.value = tasksOfUid(this.uid) + this.extra;
      this.at = now;
    }
    return this.value;
  }
}
