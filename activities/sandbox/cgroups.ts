/**
 * Per-sandbox cgroups (sandbox.md §2.6, §6.2). Hybrid hosts (this machine) only have the memory
 * and pids controllers on v1, while the unified v2 tree still offers cgroup.kill and cpu.stat;
 * pure v2 hosts have everything in one place. Each sandbox gets `sbx-<pid>-<seq>-<pidns>` dirs
 * that the launch shim joins as root before dropping privileges (the pid namespace's inode: a
 * pid tells whether its creator is alive only within the creator's own namespace).
 */
import fs from 'fs';
import path from 'path';
import type { CgroupMode } from './contract';
import { OWN_PID_NS } from './procs';

const ROOT = '/sys/fs/cgroup';
/** sbx-PID-SEQ-PIDNS (PIDNS absent in names made before it was added). */
const NAME_RE = /^sbx-(\d+)-\d+(?:-(\d+))?$/;
/** Own sub-tree on pure v2: the root cgroup is the only place exempt from "no internal processes". */
const V2_BASE = 'cairn-sandbox';

export interface CgroupLayout {
  mode: CgroupMode;
  /** Parent dirs in which sbx-* dirs are made. */
  memParent?: string;
  pidsParent?: string;
  /** v2 parent (pure v2: carries memory and pids too; hybrid: kill + cpu.stat only). */
  unifiedParent?: string;
}

export interface CgroupStats {
  oomKills: number;
  pidsMaxHits: number;
  cpuMs?: number;
}

export interface DetectOptions {
  /** 'user': never write outside a delegated v2 subtree (no v1, no root cgroup). */
  privilege: 'root' | 'user';
  /** An explicit v2 dir (delegated to this user, or chosen by root) under which sbx-* dirs are made. */
  parent?: string;
  /** cgroupfs mount point (tests point it at a fake tree). */
  root?: string;
}

/**
 * Finds where this process may create sandbox cgroups. Returns mode 'none' with a warning that
 * names the reason and the fix otherwise (the caller logs it: rlimits + pid namespace remain).
 */
export function detectCgroups(opts: DetectOptions = { privilege: 'root' }): { layout: CgroupLayout; warning?: string } {
  const root = opts.root ?? ROOT;
  try {
    const pureV2 = fs.existsSync(`${root}/cgroup.controllers`);
    if (opts.parent) return delegatedV2(path.resolve(opts.parent), pureV2);
    if (opts.privilege === 'user') {
      return {
        layout: { mode: 'none' },
        warning: pureV2
          ? 'running as a normal user without a delegated cgroup (pass cgroupParent / --cgroup-parent, see docs/grader.md)'
          : 'running as a normal user on a cgroup v1/hybrid host, whose controllers only root may use',
      };
    }
    if (pureV2) return { layout: setupPureV2(root) };
    const own = ownPaths();
    const memParent = path.join(root, 'memory', own.get('memory') ?? '/');
    const pidsParent = path.join(root, 'pids', own.get('pids') ?? '/');
    if (!fs.existsSync(`${memParent}/memory.limit_in_bytes`) || !fs.existsSync(`${pidsParent}/cgroup.procs`)) {
      return { layout: { mode: 'none' }, warning: 'no memory/pids cgroup controllers found' };
    }
    if (!writable(memParent) || !writable(pidsParent)) {
      return {
        layout: { mode: 'none' },
        warning: `the memory/pids cgroups (${memParent}, ${pidsParent}) are not writable (read-only cgroupfs, e.g. an unprivileged container)`,
      };
    }
    const unifiedDir = path.join(root, 'unified', own.get('') ?? '/');
    const unified = fs.existsSync(`${root}/unified/cgroup.procs`) && writable(unifiedDir) ? unifiedDir : undefined;
    return { layout: { mode: 'hybrid', memParent, pidsParent, unifiedParent: unified } };
  } catch (err) {
    return { layout: { mode: 'none' }, warning: `cgroup detection failed: ${(err as Error).message}` };
  }
}

/** A v2 dir given explicitly: usable when writable and its children get the memory and pids controllers. */
function delegatedV2(dir: string, pureV2: boolean): { layout: CgroupLayout; warning?: string } {
  const none = (why: string) => ({ layout: { mode: 'none' as const }, warning: `cgroup parent ${dir} is not usable: ${why}` });
  if (!pureV2) return none('this host has no pure cgroup v2 hierarchy (memory and pids are on v1)');
  if (!fs.existsSync(`${dir}/cgroup.controllers`)) return none('not a cgroup v2 directory');
  if (!writable(dir) || !writable(`${dir}/cgroup.subtree_control`)) return none('not writable by this user (not delegated)');
  const want = ['memory', 'pids'];
  const have = fs.readFileSync(`${dir}/cgroup.controllers`, 'utf8').split(/\s+/);
  const missing = want.filter((c) => !have.includes(c));
  if (missing.length) return none(`controllers ${missing.join(', ')} are not delegated to it`);
  const enabled = fs.readFileSync(`${dir}/cgroup.subtree_control`, 'utf8').split(/\s+/);
  const off = want.filter((c) => !enabled.includes(c));
  if (off.length) {
    try {
      fs.writeFileSync(`${dir}/cgroup.subtree_control`, off.map((c) => `+${c}`).join(' '));
    } catch (err) {
      // EBUSY: processes live in it ("no internal processes"); give Cairn a leaf beside the sandboxes.
      return none(
        `cannot enable ${off.join(', ')} for its children (${(err as NodeJS.ErrnoException).code}); move Cairn's own processes into a leaf cgroup first`,
      );
    }
  }
  return { layout: { mode: 'v2', unifiedParent: dir } };
}

function writable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Controller name ('' for v2) -> path, from /proc/self/cgroup lines like "4:memory:/a/b". */
function ownPaths(): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const ctrl of (m[1] ?? '').split(',')) map.set(ctrl, m[2] ?? '/');
  }
  return map;
}

function setupPureV2(root: string): CgroupLayout {
  const base = path.join(root, V2_BASE);
  fs.mkdirSync(base, { recursive: true });
  const want = ['memory', 'pids'];
  const rootCtl = fs.readFileSync(`${root}/cgroup.subtree_control`, 'utf8').split(/\s+/);
  const missing = want.filter((c) => !rootCtl.includes(c));
  if (missing.length) fs.writeFileSync(`${root}/cgroup.subtree_control`, missing.map((c) => `+${c}`).join(' '));
  fs.writeFileSync(`${base}/cgroup.subtree_control`, want.map((c) => `+${c}`).join(' '));
  return { mode: 'v2', unifiedParent: base };
}

let seq = 0;

/** The cgroup dirs of one sandbox. */
export class JobCgroups {
  private constructor(
    private readonly layout: CgroupLayout,
    readonly dirs: { mem?: string; pids?: string; unified?: string },
  ) {}

  /** Makes the dirs and sets the limits; the caller passes `procsFiles` to the launch shim. */
  static create(layout: CgroupLayout, memBytes: number, pidsMax: number): JobCgroups {
    const name = `sbx-${process.pid}-${++seq}-${OWN_PID_NS}`;
    const dirs: JobCgroups['dirs'] = {};
    const cg = new JobCgroups(layout, dirs);
    try {
      if (layout.mode === 'hybrid') {
        dirs.mem = mk(layout.memParent, name);
        fs.writeFileSync(`${dirs.mem}/memory.limit_in_bytes`, String(memBytes));
        // memsw exists only with swap accounting; the limit must be set after limit_in_bytes.
        writeIfExists(`${dirs.mem}/memory.memsw.limit_in_bytes`, String(memBytes));
        dirs.pids = mk(layout.pidsParent, name);
        fs.writeFileSync(`${dirs.pids}/pids.max`, String(pidsMax));
        if (layout.unifiedParent) dirs.unified = mk(layout.unifiedParent, name);
      } else if (layout.mode === 'v2') {
        dirs.unified = mk(layout.unifiedParent, name);
        fs.writeFileSync(`${dirs.unified}/memory.max`, String(memBytes));
        writeIfExists(`${dirs.unified}/memory.swap.max`, '0');
        fs.writeFileSync(`${dirs.unified}/pids.max`, String(pidsMax));
      }
    } catch (err) {
      cg.destroySync();
      throw err;
    }
    return cg;
  }

  /** cgroup.procs files the shim writes its pid into (so every descendant is born inside). */
  get procsFiles(): string[] {
    return [this.dirs.mem, this.dirs.pids, this.dirs.unified].filter((d): d is string => !!d).map((d) => `${d}/cgroup.procs`);
  }

  /** OOM kills, pids.max hits and CPU used, read before the dirs are removed. */
  stats(): CgroupStats {
    const { mem, pids, unified } = this.dirs;
    const v2 = this.layout.mode === 'v2';
    const memFile = v2 ? `${unified}/memory.events` : `${mem}/memory.oom_control`;
    const pidsFile = v2 ? `${unified}/pids.events` : `${pids}/pids.events`;
    const cpu = unified ? num(read(`${unified}/cpu.stat`), /usage_usec (\d+)/) : undefined;
    return {
      oomKills: num(read(memFile), /oom_kill (\d+)/) ?? 0,
      pidsMaxHits: num(read(pidsFile), /max (\d+)/) ?? 0,
      cpuMs: cpu === undefined ? undefined : cpu / 1000,
    };
  }

  /**
   * SIGKILLs everything inside now (cgroup.kill, or the listed pids on v1), without waiting: also
   * a sandbox pid 1 whose bwrap died before it could arm its parent-death signal.
   */
  kill(): void {
    for (const d of Object.values(this.dirs)) if (d) killDir(d);
  }

  /** Kills whatever is still inside, waits for it to be gone and removes the dirs; returns dirs it could not remove. */
  async destroy(): Promise<string[]> {
    return destroyDirs(Object.values(this.dirs).filter((d): d is string => !!d));
  }

  private destroySync(): void {
    for (const d of Object.values(this.dirs)) if (d) tryRmdir(d);
  }
}

/** Removes sbx-* cgroups whose creating process is dead (a host killed with -9 leaves them). */
export async function removeStaleCgroups(layout: CgroupLayout, log: (m: string) => void): Promise<number> {
  const byName = new Map<string, string[]>();
  for (const parent of [layout.memParent, layout.pidsParent, layout.unifiedParent]) {
    if (!parent) continue;
    let names: string[] = [];
    try {
      names = fs.readdirSync(parent);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = NAME_RE.exec(n);
      // Another pid namespace's (another container's grader): its pid says nothing here. Its
      // processes would not even be visible (cgroup.procs lists them as 0), so leave it alone.
      if (!m || (m[2] !== undefined && m[2] !== OWN_PID_NS)) continue;
      if (Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
      byName.set(n, [...(byName.get(n) ?? []), path.join(parent, n)]);
    }
  }
  for (const [name, dirs] of byName) {
    log(`sandbox: removing stale cgroup ${name} (${dirs.length} dirs)`);
    const left = await destroyDirs(dirs);
    if (left.length) log(`sandbox: warning: could not remove ${left.join(', ')}`);
  }
  return byName.size;
}

function killDir(d: string): void {
  try {
    writeIfExists(`${d}/cgroup.kill`, '1');
  } catch {
    /* dir already gone: nothing to kill */
  }
  // v1 has no cgroup.kill: the listed pids (root may signal any uid)
  for (const p of procs(d)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

async function destroyDirs(dirs: string[]): Promise<string[]> {
  for (const d of dirs) killDir(d);
  // Keep SIGKILLing what is listed (v1: forks racing the first kill). A killed process normally
  // leaves within milliseconds; the deadline is for a host that is busy.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pids = dirs.flatMap((d) => procs(d));
    if (pids.length === 0 || Date.now() > deadline) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const left: string[] = [];
  for (const d of dirs) {
    let gone = tryRmdir(d);
    for (let i = 0; i < 50 && !gone; i++) {
      await new Promise((r) => setTimeout(r, 10));
      gone = tryRmdir(d);
    }
    if (!gone) left.push(d);
  }
  return left;
}

/**
 * The pids in a cgroup, as seen from our pid namespace. A process outside it is listed as 0, and
 * is dropped: kill(0) would signal our own process group.
 */
function procs(dir: string): number[] {
  const text = read(`${dir}/cgroup.procs`);
  return text
    ? text
        .split('\n')
        .map(Number)
        .filter((p) => Number.isInteger(p) && p > 0)
    : [];
}

function tryRmdir(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function mk(parent: string | undefined, name: string): string {
  if (!parent) throw new Error('cgroup parent missing');
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  return dir;
}

function writeIfExists(file: string, value: string): void {
  try {
    // r+: never try to create a file in cgroupfs; a missing knob just means "not on this host"
    fs.writeFileSync(file, value, { flag: 'r+' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function num(text: string, re: RegExp): number | undefined {
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** True if a process with this pid exists (EPERM still means it exists). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
