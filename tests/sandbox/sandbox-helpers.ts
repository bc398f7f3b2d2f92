/** Shared setup for the sandbox tests: a real sandbox, and checks that nothing outlives a run. */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createSandbox } from '../../activities/sandbox';
import type { RunRequest, RunResult, Sandbox, SandboxInfo, SandboxOptions } from '../../activities/sandbox';
import type { CairnSandbox } from '../../activities/sandbox/runner';
import { detectCgroups } from '../../activities/sandbox/cgroups';
import { tracked } from '../helpers/tracked-processes';

export type TestSandbox = Sandbox & { info: SandboxInfo; idleSandboxes: CairnSandbox['idleSandboxes'] };

/**
 * Slot uids derived from our pid, so two test runs on one machine (or another file of this run)
 * never share uids and the "no live process of the slot uid" checks stay meaningful.
 */
export function uidBaseFor(fileIndex: number): number {
  return 61000 + (process.pid % 500) * 32 + fileIndex * 4;
}

export async function makeSandbox(fileIndex: number, extra: Partial<SandboxOptions> = {}): Promise<{ sb: TestSandbox; stateDir: string }> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-sbx-test-'));
  fs.chmodSync(stateDir, 0o755);
  try {
    const sb = tracked('sandbox', await createSandbox({ stateDir, uidBase: uidBaseFor(fileIndex), ...extra }), 'close');
    return { sb, stateDir };
  } catch (err) {
    fs.rmSync(stateDir, { recursive: true, force: true });
    const msg = (err as Error).message;
    throw new Error(`cannot start the sandbox (npm run setup installs bubblewrap and python3-seccomp): ${msg}`, { cause: err });
  }
}

/** Runs with 1 s per input and returns the result and its wall time. */
export async function timed(
  sb: Sandbox,
  code: string,
  inputs: string[],
  extra: Partial<RunRequest> = {},
): Promise<{ r: RunResult; ms: number }> {
  const t0 = Date.now();
  const r = await sb.run({ code, entry: 'f', inputs, timeLimitMs: 1000, ...extra });
  return { r, ms: Date.now() - t0 };
}

/** Live (non-zombie) processes whose real, effective or saved uid is one of `uids`. */
export function liveProcsOf(uids: number[]): string[] {
  const found: string[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${name}/status`, 'utf8');
    } catch {
      continue;
    }
    const state = /^State:\s+(\S)/m.exec(status)?.[1];
    const ids = (/^Uid:\s+(.*)$/m.exec(status)?.[1] ?? '').trim().split(/\s+/).map(Number);
    if (state !== 'Z' && ids.some((u) => uids.includes(u))) found.push(`${name} ${/^Name:\s+(.*)$/m.exec(status)?.[1]} ${state}`);
  }
  return found;
}

/** sbx-<pid>-* cgroup dirs made by `pid` (default: this process). */
export function cgroupsOf(pid = process.pid): string[] {
  const { layout } = detectCgroups();
  const out: string[] = [];
  for (const parent of [layout.memParent, layout.pidsParent, layout.unifiedParent]) {
    if (!parent) continue;
    for (const n of fs.readdirSync(parent)) if (n.startsWith(`sbx-${pid}-`)) out.push(path.join(parent, n));
  }
  return out;
}

/**
 * After every case: no process of the slot uids, no cgroup of ours, no job dir left. A SIGKILLed
 * process can take a moment to finish exiting on a loaded machine: it gets up to 1 s (the bound the
 * grader issue sets for a killed worker's sandboxes).
 */
/** Live processes of the slot uids that are not part of an idle pre-started sandbox. */
export async function liveNotIdle(sb: TestSandbox): Promise<string[]> {
  const idle = await sb.idleSandboxes();
  const found = liveProcsOf(sb.info.slotUids);
  const idlePids = treeOf(idle.map((w) => w.pid));
  return found.filter((p) => !idlePids.has(Number(p.split(' ')[0])));
}

export async function expectClean(sb: TestSandbox, stateDir: string): Promise<void> {
  // The idle pre-started sandboxes (at most one per slot, none has run code) are all that may remain.
  const idle = await sb.idleSandboxes();
  expect(idle.length).toBeLessThanOrEqual(sb.info.slotUids.length);
  const live = (): string[] => {
    // The tree after the list, each time: an idle sandbox may still be starting (forking its children).
    const found = liveProcsOf(sb.info.slotUids);
    const idlePids = treeOf(idle.map((w) => w.pid));
    return found.filter((p) => !idlePids.has(Number(p.split(' ')[0])));
  };
  for (let i = 0; i < 20 && live().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  const left = live();
  const ppid = (pid: string): string => {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return st.slice(st.lastIndexOf(')') + 2).split(' ')[1] ?? '?';
    } catch {
      return 'gone';
    }
  };
  expect(left.map((p) => `${p} (ppid ${ppid(p.split(' ')[0]!)}; idle ${idle.map((w) => w.pid).join(',')})`)).toEqual([]);
  const idleCgroups = new Set(idle.flatMap((w) => w.cgroups));
  expect(cgroupsOf().filter((d) => !idleCgroups.has(d))).toEqual([]);
  const idleDirs = new Set(idle.map((w) => path.basename(w.jobDir)));
  expect(fs.readdirSync(path.join(stateDir, 'jobs')).filter((d) => !idleDirs.has(d))).toEqual([]);
}

/** `roots` and all their descendants (from /proc). */
export function treeOf(roots: number[]): Set<number> {
  const kids = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(name)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out = new Set<number>();
  const todo = [...roots];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    if (out.has(pid)) continue;
    out.add(pid);
    todo.push(...(kids.get(pid) ?? []));
  }
  return out;
}

export function statuses(r: RunResult): string[] {
  return r.outcomes.map((o) => o.status);
}
