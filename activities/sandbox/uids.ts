/**
 * Host-wide ownership of slot uids. RLIMIT_NPROC counts every process of a uid on the host, so
 * two grader processes sharing uids would starve each other ("bwrap: Can't fork for pid 1" was
 * seen here when two processes both used the default 60000). Each uid is leased through a lock
 * file holding the owner's pid; a lock whose pid is dead is stale and taken over.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { pidAlive } from './cgroups';
import { SandboxSetupError } from './sandbox-errors';
import { killUntilGone, OWN_PID_NS } from './procs';

export const DEFAULT_UID_BASE = 60000;
const held = new Set<number>();

export interface UidLease {
  uids: number[];
  release(): void;
}

/**
 * Leases `slots` consecutive uids, from `base` (default 60000) when free, else from the next free
 * block after it (the move is returned as a warning): uid numbers carry no meaning beyond being
 * exclusive, and refusing would make two workers with the same config unable to coexist.
 */
export function claimUids(base: number | undefined, slots: number): UidLease & { warning?: string } {
  const dir = lockDir();
  const busy = uidsOfLiveProcesses();
  let start = base ?? DEFAULT_UID_BASE;
  let firstWhy: string | undefined;
  for (let tries = 0; tries < 256; tries++, start += slots) {
    const uids = Array.from({ length: slots }, (_, i) => start + i);
    const conflict = uids.map((u) => whyTaken(dir, u, busy)).find((w) => w !== undefined);
    const got = conflict === undefined ? lockAll(dir, uids) : undefined;
    if (got && tries === 0) return got;
    if (got) return { ...got, warning: `uids from ${base ?? DEFAULT_UID_BASE} are busy (${firstWhy}); using ${uids.join(', ')}` };
    firstWhy ??= conflict ?? 'taken by a concurrent start';
  }
  throw new SandboxSetupError(`no free block of ${slots} sandbox uids from ${base ?? DEFAULT_UID_BASE}; remove stale locks in ${dir}`);
}

function whyTaken(dir: string, uid: number, busy: Map<number, number>): string | undefined {
  if (held.has(uid)) return `uid ${uid} is used by another sandbox of this process`;
  const owner = readOwner(path.join(dir, `uid-${uid}`));
  // A lease from another pid namespace (another container's grader) cannot be checked for
  // liveness from here: it counts as taken (a dead one's lock file can be removed by hand).
  if (owner !== undefined && owner.ns !== OWN_PID_NS) return `uid ${uid} is leased by pid ${owner.pid} of another pid namespace (${dir})`;
  if (owner !== undefined && owner.pid !== process.pid && pidAlive(owner.pid)) return `uid ${uid} is leased by pid ${owner.pid} (${dir})`;
  const pid = busy.get(uid);
  if (pid !== undefined) return `uid ${uid} is in use by live process ${pid}`;
  return undefined;
}

function lockAll(dir: string, uids: number[]): UidLease | undefined {
  const mine: number[] = [];
  const release = (): void => {
    for (const u of mine) {
      held.delete(u);
      const file = path.join(dir, `uid-${u}`);
      const owner = readOwner(file);
      if (owner?.pid === process.pid && owner.ns === OWN_PID_NS) fs.rmSync(file, { force: true });
    }
    mine.length = 0;
  };
  for (const u of uids) {
    const file = path.join(dir, `uid-${u}`);
    fs.rmSync(file, { force: true }); // stale (checked by whyTaken): take it over
    try {
      fs.writeFileSync(file, `${process.pid} ${OWN_PID_NS}`, { flag: 'wx' }); // exclusive: a racing start loses here
    } catch {
      release();
      return undefined;
    }
    held.add(u);
    mine.push(u);
  }
  return { uids: [...mine], release };
}

function lockDir(): string {
  for (const dir of ['/run/cairn-sandbox', path.join(os.tmpdir(), 'cairn-sandbox-uids')]) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.accessSync(dir, fs.constants.W_OK);
      return dir;
    } catch {
      /* try the next place */
    }
  }
  throw new SandboxSetupError('cannot create a uid lock dir in /run or the temp dir');
}

/** "PID PIDNS" (a lock written before the namespace was added has the pid alone: ours, then). */
function readOwner(file: string): { pid: number; ns: string } | undefined {
  try {
    const [p, ns] = fs.readFileSync(file, 'utf8').trim().split(/\s+/);
    const pid = Number(p);
    return Number.isInteger(pid) && pid > 0 ? { pid, ns: ns ?? OWN_PID_NS } : undefined;
  } catch {
    return undefined;
  }
}

/** uid -> one live pid running with it. */
function uidsOfLiveProcesses(): Map<number, number> {
  const map = new Map<number, number>();
  for (const [pid, uid] of liveProcesses()) if (uid >= 1000 && !map.has(uid)) map.set(uid, pid);
  return map;
}

/** [pid, real uid] of every non-zombie process. */
function* liveProcesses(): Generator<[number, number]> {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = fs.readFileSync(`/proc/${name}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      yield [Number(name), Number(/^Uid:\s+(\d+)/m.exec(status)?.[1])];
    } catch {
      /* exited meanwhile */
    }
  }
}

/**
 * Without cgroups, the host cannot wait for "cgroup empty": it waits until no live process of
 * the slot uid is left instead (bwrap's pid 1 may still be exiting when Node sees the close),
 * SIGKILLing stragglers. Safe only because the uid is leased to this slot alone.
 */
export function waitUidGone(uid: number, timeoutMs = 3000): Promise<boolean> {
  return killUntilGone(() => [...livePids(uid)], timeoutMs);
}

function* livePids(uid: number): Generator<number> {
  for (const [pid, u] of liveProcesses()) if (u === uid) yield pid;
}
