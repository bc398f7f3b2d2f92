/**
 * One sandbox process over inputs [start..]: spawn, read the driver's JSON lines, enforce the
 * host-side limits (watchdog per phase, stdout/stderr caps), then collect cgroup stats and clean
 * up. It reports what happened; runner.ts decides whom to blame and whether to resume.
 */
import { JobCgroups } from './cgroups';
import type { CgroupLayout, CgroupStats } from './cgroups';
import { SandboxInfraError } from './sandbox-errors';
import { spawnSandbox } from './launch';
import { killSandboxInit, sandboxPidNs, waitNsGone } from './procs';
import { waitUidGone } from './uids';
import type { LaunchSpec } from './launch';
import type { WarmSandbox } from './warm';
import type { InputOutcome, RunStatus } from './contract';

/** Longest legal protocol line: 64 KiB canonical output, at most doubled by JSON escaping, plus error text. */
const LINE_CAP = 160 * 1024;
const STDERR_CAP = 64 * 1024;
/** How long a killed sandbox's pipes may stay open before the host stops waiting for them. */
export const CLOSE_WAIT_MS = 5000;
/** After killing a sandbox's pid 1, how long bwrap gets to reap it and exit before it is killed too. */
export const KILL_ESCALATE_MS = 250;
const STATUSES = new Set<RunStatus>(['ok', 'error', 'timeout', 'memory_limit', 'output_limit', 'skipped']);

export interface SegmentJob {
  launch: Omit<LaunchSpec, 'procsFiles' | 'args' | 'cpuSeconds'>;
  layout: CgroupLayout;
  memBytes: number;
  pidsMax: number;
  start: number;
  /** Wall limit per input (the watchdog arms limit + graceMs). */
  limits: number[];
  /** CPU limit per input, ms: a reported CPU time above it is a timeout, whatever the code did with the alarm. */
  cpuLimits: number[];
  loadMs: number;
  /** CPU budget of the whole attempt (module loads and inputs), ms, and what earlier sandboxes of it used. */
  budgetMs: number;
  baseCpuMs: number;
  /** Slack the watchdog gives the driver beyond a limit before killing the sandbox. */
  graceMs: number;
  /** Max time from spawn to the driver's hello (python start + bwrap setup). */
  startupMs: number;
  signal: AbortSignal;
  log: (msg: string) => void;
  /** A pre-started sandbox to use (its job dir already holds this job), instead of spawning one. */
  warm?: WarmSandbox;
}

export type KilledBy = 'watchdog' | 'output' | 'protocol' | 'abort';

export interface SegmentResult {
  results: Array<{ i: number; outcome: InputOutcome }>;
  hello: boolean;
  /** The driver's load line, when it got that far. */
  load?: { status: RunStatus; error: string };
  code: number | null;
  signal: NodeJS.Signals | null;
  killedBy?: KilledBy;
  spawnError?: Error;
  stats?: CgroupStats;
  stderr: string;
  /** Wall time since the last line (or spawn) when the sandbox ended: the running phase's time. */
  sinceLastLineMs: number;
  /** Process CPU the driver reported at its last line (ms). */
  lastTotCpuMs: number;
  /** CPU this sandbox spent on the attempt (module load and inputs) up to its last line, ms. */
  usedCpuMs: number;
}

interface Line {
  t?: unknown;
  i?: unknown;
  status?: unknown;
  out?: unknown;
  error?: unknown;
  ms?: unknown;
  cpu?: unknown;
  pcpu?: unknown;
  tot?: unknown;
}

/** Runs one sandbox to its end. Never throws for the code's behaviour; cgroup errors propagate. */
export async function runSegment(job: SegmentJob): Promise<SegmentResult> {
  const remaining = job.limits.length - job.start;
  // RLIMIT_CPU: the kernel's backstop for the attempt's budget (python start fits in its 2 s of slack).
  const cpuMs = Math.max(0, job.budgetMs - job.baseCpuMs);
  let cg: JobCgroups | undefined = job.warm?.cg;
  try {
    if (!job.warm) cg = job.layout.mode === 'none' ? undefined : JobCgroups.create(job.layout, job.memBytes, job.pidsMax);
  } catch (err) {
    throw new SandboxInfraError(`cannot create the sandbox cgroups: ${(err as Error).message}`, { cause: err });
  }
  const res: SegmentResult = {
    results: [],
    hello: false,
    code: null,
    signal: null,
    stderr: '',
    sinceLastLineMs: 0,
    lastTotCpuMs: 0,
    usedCpuMs: 0,
  };
  // User mode without cgroups: the sandbox's processes share our uid, so they are found by pid namespace.
  let ns: string | undefined;
  try {
    await new Promise<void>((resolve) => {
      let child: ReturnType<typeof spawnSandbox>;
      const warm = job.warm;
      try {
        child = warm
          ? warm.child
          : spawnSandbox({
              ...job.launch,
              procsFiles: cg?.procsFiles ?? [],
              args: ['/sandbox/job', String(job.start), job.baseCpuMs.toFixed(3)],
              cpuSeconds: cpuMs / 1000 + 2,
            });
      } catch (err) {
        res.spawnError = err as Error;
        return resolve();
      }
      let lastLineAt = Date.now();
      let helloTot = 0;
      let next = job.start;
      let outBytes = 0;
      let partial = '';
      let timer: NodeJS.Timeout | undefined;
      let closeTimer: NodeJS.Timeout | undefined;
      let done = false;
      const stdoutCap = (remaining + 4) * LINE_CAP;

      let killing = false;
      let escalate: NodeJS.Timeout | undefined;
      const killAll = (): void => {
        child.kill('SIGKILL');
        // Everything in the cgroup too: a pid 1 whose bwrap died before it armed its
        // parent-death signal would otherwise keep running and hold the pipes open.
        cg?.kill();
      };
      const kill = (why: KilledBy): void => {
        res.killedBy ??= why;
        // Inside out: the sandbox's pid 1 first, so bwrap reaps it (nothing left for our pid 1
        // to reap); bwrap and the cgroup too if that is not possible or bwrap does not exit.
        if (killing) return;
        killing = true;
        if (killSandboxInit(child)) escalate = setTimeout(killAll, KILL_ESCALATE_MS);
        else killAll();
        // The close event normally follows at once; never wait for it for ever (the cleanup
        // below sweeps the cgroup, slot uid or pid namespace whatever is still alive).
        closeTimer ??= setTimeout(() => {
          job.log(`sandbox: warning: a killed sandbox (pid ${child.pid ?? '?'}) kept its pipes open ${CLOSE_WAIT_MS} ms`);
          child.stdout.destroy();
          child.stderr.destroy();
          finish();
        }, CLOSE_WAIT_MS);
      };
      const arm = (ms: number): void => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => kill('watchdog'), ms);
      };
      const onAbort = (): void => kill('abort');
      job.signal.addEventListener('abort', onAbort, { once: true });
      if (job.signal.aborted) kill('abort');
      arm(job.startupMs);

      const onLine = (text: string): void => {
        let msg: Line;
        try {
          msg = JSON.parse(text) as Line;
        } catch {
          return kill('protocol');
        }
        const now = Date.now();
        const hostMs = now - lastLineAt;
        lastLineAt = now;
        if (typeof msg.tot === 'number') res.lastTotCpuMs = msg.tot;
        if (!res.hello) {
          if (msg.t !== 'hello') return kill('protocol');
          res.hello = true;
          helloTot = num(msg.tot);
          if (job.launch.uid === null && !cg) ns = sandboxPidNs(child.pid ?? -1);
          warm?.go(job.start, job.baseCpuMs);
          return arm(job.loadMs + job.graceMs);
        }
        if (!res.load) {
          if (msg.t !== 'load' || !STATUSES.has(msg.status as RunStatus)) return kill('protocol');
          res.usedCpuMs = Math.max(0, res.lastTotCpuMs - helloTot);
          res.load = { status: msg.status as RunStatus, error: String(msg.error ?? '') };
          // The host's own check of the time limits (the driver's alarm is only the fast path).
          const over =
            res.load.status === 'ok'
              ? overLimit(num(msg.cpu), hostMs, job.loadMs, job.loadMs + job.graceMs, job.baseCpuMs + res.usedCpuMs, job.budgetMs)
              : null;
          if (over) res.load = { status: 'timeout', error: `${over} while loading the module` };
        } else {
          // Anything but the next input's result means the code wrote into the driver's channel.
          if (msg.t !== 'res' || msg.i !== next || !STATUSES.has(msg.status as RunStatus)) return kill('protocol');
          let status = msg.status as RunStatus;
          const outcome: InputOutcome = { status, wallMs: num(msg.ms), cpuMs: num(msg.cpu) };
          res.usedCpuMs = Math.max(0, res.lastTotCpuMs - helloTot);
          const over =
            status === 'ok' || status === 'error'
              ? overLimit(
                  Math.max(num(msg.cpu), num(msg.pcpu)),
                  hostMs,
                  job.cpuLimits[next] ?? 0,
                  (job.limits[next] ?? 0) + job.graceMs,
                  job.baseCpuMs + res.usedCpuMs,
                  job.budgetMs,
                )
              : null;
          if (over) outcome.status = status = 'timeout';
          if (status === 'ok') outcome.out = String(msg.out ?? '');
          else if (over) outcome.error = over;
          else if (msg.error) outcome.error = String(msg.error);
          res.results.push({ i: next, outcome });
          next++;
        }
        const limit = job.limits[next];
        if (limit === undefined || res.load.status !== 'ok') {
          if (timer) clearTimeout(timer); // all reported: the driver exits by itself
          timer = setTimeout(() => kill('watchdog'), 2000);
        } else arm(limit + job.graceMs);
      };

      const onOut = (chunk: string): void => {
        if (done || res.killedBy) return;
        outBytes += chunk.length;
        if (outBytes > stdoutCap) return kill('output');
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0 && !res.killedBy) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          onLine(line);
        }
        if (partial.length > LINE_CAP) kill('output');
      };
      const onErr = (chunk: string): void => {
        // keep the head (where bwrap/driver errors are), keep draining the rest
        if (res.stderr.length < STDERR_CAP) res.stderr += chunk.slice(0, STDERR_CAP - res.stderr.length);
      };
      const finish = (): void => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        if (closeTimer) clearTimeout(closeTimer);
        if (escalate) clearTimeout(escalate);
        job.signal.removeEventListener('abort', onAbort);
        res.sinceLastLineMs = Date.now() - lastLineAt;
        resolve();
      };
      const onError = (err: Error): void => {
        res.spawnError = err;
        finish();
      };
      const onClose = (code: number | null, sig: NodeJS.Signals | null): void => {
        res.code = code;
        res.signal = sig;
        finish();
      };
      if (warm) warm.take({ out: onOut, err: onErr, close: onClose, error: onError });
      else {
        child.stdout.setEncoding('utf8'); // decodes characters split across chunks correctly
        child.stdout.on('data', onOut);
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', onErr);
        // The driver never reads stdin; EPIPE when the sandbox is gone must not crash the host.
        child.stdin.on('error', () => undefined);
        child.stdin.end();
        child.on('error', onError);
        child.on('close', onClose);
      }
    });
  } finally {
    if (cg) {
      res.stats = cg.stats();
      const left = await cg.destroy();
      // Processes that survive cgroup.kill would be a containment failure: make it loud.
      if (left.length) job.log(`sandbox: warning: could not remove cgroups ${left.join(', ')}`);
    } else if (job.launch.uid !== null) {
      if (!(await waitUidGone(job.launch.uid))) job.log(`sandbox: warning: processes of uid ${job.launch.uid} survived the sandbox`);
    } else if (ns && !(await waitNsGone(ns))) {
      job.log(`sandbox: warning: processes of pid namespace ${ns} survived the sandbox`);
    }
  }
  return res;
}

/**
 * Why a phase the driver reported as finished is still over its limits, or null: its CPU time
 * above the CPU limit, the host's own wall clock past the backstop, or the attempt over its budget.
 */
export function overLimit(
  cpuMs: number,
  hostWallMs: number,
  cpuLimitMs: number,
  wallBackstopMs: number,
  usedMs: number,
  budgetMs: number,
): string | null {
  if (cpuMs > cpuLimitMs) return `time limit exceeded (${Math.round(cpuMs)} ms of CPU, limit ${cpuLimitMs} ms; checked by the host)`;
  if (hostWallMs > wallBackstopMs) return `time limit exceeded (${hostWallMs} ms wall, backstop ${wallBackstopMs} ms; checked by the host)`;
  if (usedMs > budgetMs)
    return `attempt time budget exceeded (${Math.round(usedMs)} ms of CPU, budget ${budgetMs} ms; checked by the host)`;
  return null;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
