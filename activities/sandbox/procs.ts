/**
 * Process bookkeeping for user mode, where every sandbox runs as the invoking user: the uid can
 * no longer tell sandbox processes from Cairn's own, so cleanup goes by pid namespace, and
 * RLIMIT_NPROC (which counts every task of the uid host-wide) must leave room for the user's
 * own tasks.
 */
import fs from 'fs';

/** The pid namespace (e.g. 'pid:[4026532181]') of the sandbox whose outer bwrap is `outerPid`. */
export function sandboxPidNs(outerPid: number): string | undefined {
  // bwrap's first child is pid 1 of the new namespace (the reaper); everything else is below it.
  let kids: string[] = [];
  try {
    kids = fs.readFileSync(`/proc/${outerPid}/task/${outerPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return undefined;
  }
  const mine = nsOf(process.pid);
  for (const kid of kids) {
    const ns = nsOf(Number(kid));
    if (ns && ns !== mine) return ns;
  }
  return undefined;
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
