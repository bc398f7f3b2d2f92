/** Shared setup for the sandbox tests: a real sandbox, and checks that nothing outlives a run. */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createSandbox } from '../../activities/sandbox';
import type { RunRequest, RunResult, Sandbox, SandboxInfo, SandboxOptions } from '../../activities/sandbox';
import { detectCgroups } from '../../activities/sandbox/cgroups';
import { tracked } from '../helpers/tracked-processes';

export type TestSandbox = Sandbox & { info: SandboxInfo };

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
export async function expectClean(sb: TestSandbox, stateDir: string): Promise<void> {
  for (let i = 0; i < 20 && liveProcsOf(sb.info.slotUids).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(liveProcsOf(sb.info.slotUids)).toEqual([]);
  expect(cgroupsOf()).toEqual([]);
  expect(fs.readdirSync(path.join(stateDir, 'jobs'))).toEqual([]);
}

export function statuses(r: RunResult): string[] {
  return r.outcomes.map((o) => o.status);
}
