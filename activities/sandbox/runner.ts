/**
 * The grader: one bwrap sandbox per run with every input executed in-process by the driver, and
 * resume-on-death: when the sandbox dies on input i, input i is blamed (timeout, memory_limit,
 * output_limit or crash) and the rest continue in a fresh sandbox (sandbox.md §6).
 */
import { promises as fsp } from 'fs';
import path from 'path';
import { detectCgroups, removeStaleCgroups } from './cgroups';
import type { CgroupLayout } from './cgroups';
import { SandboxInfraError } from './sandbox-errors';
import { RLIMITS } from './launch';
import type { LaunchSpec } from './launch';
import { SlotPool } from './pool';
import { ensureSeccomp } from './seccomp';
import { CLOSE_WAIT_MS, KILL_ESCALATE_MS, runSegment } from './segment';
import { blameFor, infraError } from './classify';
import { CgroupJoinError, preflight, prepareDriver, prepareStateDir, probe, removeStaleJobDirs } from './host-checks';
import { claimUids, waitUidGone } from './uids';
import { killSandboxInit, sandboxPidNs, UserNproc, waitNsGone } from './procs';
import { WarmSandbox } from './warm';
import type { UidLease } from './uids';
import type { InputOutcome, PrivilegeMode, RunRequest, RunResult, RunStatus, Sandbox, SandboxInfo, SandboxOptions } from './contract';

/** Slack past a limit before the host kills a sandbox whose driver did not report (swallowed alarm, C code). */
const GRACE_MS = 500;
/** How long an unused pre-started sandbox gets to exit on its own (stdin closed) before it is killed. */
const DISCARD_EXIT_MS = 1000;
/** Spawn to driver hello; generous because it only guards against a hung start. */
const STARTUP_MS = 10_000;

type Launch = Omit<LaunchSpec, 'procsFiles' | 'args' | 'cpuSeconds' | 'jobDir' | 'uid' | 'nproc'>;

/**
 * Prepares the host (seccomp filter, compiled driver, cgroup mode, stale cgroup cleanup) and
 * proves with a startup probe that sandboxes are isolated; throws SandboxSetupError otherwise.
 */
/** What createSandbox returns: the Sandbox, what its probe found, and its idle pre-started sandboxes. */
export type CairnSandbox = Sandbox & {
  info: SandboxInfo;
  idleSandboxes(): Promise<Array<{ pid: number; cgroups: string[]; jobDir: string }>>;
};

export async function createSandbox(opts: SandboxOptions): Promise<CairnSandbox> {
  const log = opts.log ?? (() => undefined);
  const slots = opts.slots ?? 2;
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive integer, got ${slots}`);
  if (opts.uidBase !== undefined && !(Number.isInteger(opts.uidBase) && opts.uidBase > 0)) {
    throw new RangeError(`uidBase must be a positive integer (never 0), got ${opts.uidBase}`);
  }
  if (opts.memoryMb !== undefined && !(Number.isFinite(opts.memoryMb) && opts.memoryMb >= 16))
    throw new RangeError('memoryMb must be >= 16');
  if (opts.pidsMax !== undefined && !(Number.isInteger(opts.pidsMax) && opts.pidsMax >= 8))
    throw new RangeError('pidsMax must be an integer >= 8');
  const myUid = process.getuid?.() ?? 0;
  const privilege: PrivilegeMode = myUid === 0 ? 'root' : 'user';
  preflight(privilege);
  const stateDir = path.resolve(opts.stateDir);
  const jobsDir = prepareStateDir(stateDir, privilege);
  const seccompPath = await ensureSeccomp(stateDir);
  const driverPath = await prepareDriver(stateDir);

  const warnings: string[] = [];
  const warn = (w: string): void => {
    warnings.push(w);
    log(`sandbox: warning: ${w}`);
  };
  const noCgroups = ': limits rely on rlimits and the pid namespace only (memory via RLIMIT_AS 1 GiB per process)';
  let layout: CgroupLayout = { mode: 'none' };
  if (opts.cgroups === 'off') warn(`cgroups disabled by option${noCgroups}`);
  else {
    const found = detectCgroups({ privilege, parent: opts.cgroupParent });
    layout = found.layout;
    if (found.warning) warn(`${found.warning}${noCgroups}`);
  }
  const stale = await removeStaleCgroups(layout, log);
  removeStaleJobDirs(jobsDir, log);

  let lease: UidLease & { warning?: string };
  if (privilege === 'root') lease = claimUids(opts.uidBase, slots);
  else lease = { uids: Array.from({ length: slots }, () => myUid), release: () => undefined };
  if (lease.warning) warn(lease.warning);
  // User mode: RLIMIT_NPROC counts the user's own tasks too, so it is raised by their number.
  // The driver then caps each sandbox at RLIMITS.nproc (counted per user namespace).
  const nproc = privilege === 'user' ? new UserNproc(myUid, RLIMITS.nproc * (slots + 1)) : undefined;
  const grader = new Grader(
    { seccompPath, driverPath },
    layout,
    jobsDir,
    lease,
    privilege,
    nproc,
    opts.memoryMb ?? 256,
    opts.pidsMax ?? 32,
    log,
    opts.warm !== false,
  );
  let probeDir: string | undefined;
  try {
    probeDir = await grader.makeJobDir(null);
    const probeWith = (l: CgroupLayout) =>
      probe({ seccompPath, driverPath, jobDir: probeDir!, ...grader.launchIds(0) }, l, grader.memBytes(undefined), grader.pidsMax);
    let p: Awaited<ReturnType<typeof probe>>;
    try {
      p = await probeWith(layout);
    } catch (err) {
      // User mode: a delegated subtree that does not contain Cairn's own cgroup cannot be joined
      // unprivileged (CgroupJoinError), nor can one whose files are not ours: fall back, logged.
      // A failure without cgroups, or in root mode, is a refusal.
      if (privilege === 'root' || layout.mode === 'none') throw err;
      warn(
        `cgroups under ${opts.cgroupParent ?? '?'} unusable (${err instanceof CgroupJoinError ? err.message : (err as Error).message})${noCgroups}`,
      );
      layout = { mode: 'none' };
      grader.layout = layout;
      p = await probeWith(layout);
    }
    log(
      privilege === 'root'
        ? `sandbox: root mode: each slot drops to its own uid (${lease.uids.join(', ')}) with setpriv before bwrap; cgroups ${layout.mode}`
        : `sandbox: user mode (uid ${myUid}): bwrap in an unprivileged user namespace as the invoking user, no per-slot uids` +
            `${opts.uidBase !== undefined ? ` (uidBase ${opts.uidBase} unused)` : ''}; cgroups ${layout.mode}`,
    );
    grader.info = {
      privilege,
      cgroupMode: layout.mode,
      sandboxUid: p.uid,
      slotUids: lease.uids,
      interfaces: p.interfaces,
      python: p.python,
      seccompPath,
      staleCgroupsRemoved: stale,
      probeMs: p.ms,
      warnings,
    };
  } catch (err) {
    lease.release();
    throw err;
  } finally {
    if (probeDir) await fsp.rm(probeDir, { recursive: true, force: true });
  }
  grader.startWarm();
  return grader;
}

class Grader implements Sandbox {
  info!: SandboxInfo;
  private readonly pool: SlotPool;
  private readonly active = new Map<AbortController, Promise<unknown>>();
  private closed = false;
  private jobSeq = 0;
  /** Per slot: its pre-started sandbox (warm pool), being started or ready. */
  private readonly warm: Array<Promise<WarmSandbox | undefined> | undefined> = [];

  constructor(
    private readonly launch: Launch,
    public layout: CgroupLayout,
    private readonly jobsDir: string,
    private readonly lease: UidLease,
    private readonly privilege: PrivilegeMode,
    private readonly nproc: UserNproc | undefined,
    private readonly memoryMb: number,
    readonly pidsMax: number,
    private readonly log: (msg: string) => void,
    private readonly warmPool: boolean,
  ) {
    this.pool = new SlotPool(lease.uids.length);
  }

  /** Who the sandbox of `slot` runs as: its slot uid (root mode) or the invoking user (null). */
  launchIds(slot: number): { uid: number | null; nproc?: number } {
    return this.privilege === 'root' ? { uid: this.lease.uids[slot]! } : { uid: null, nproc: this.nproc?.get() };
  }

  memBytes(mb: number | undefined): number {
    return Math.round((mb ?? this.memoryMb) * 1024 * 1024);
  }

  /** Runs every input (see RunRequest); rejects with the signal's reason when aborted. */
  run(req: RunRequest, signal?: AbortSignal): Promise<RunResult> {
    if (this.closed) return Promise.reject(new SandboxInfraError('sandbox is closed'));
    let limits: number[];
    try {
      limits = checkRequest(req);
    } catch (err) {
      return Promise.reject(err);
    }
    const ctl = new AbortController();
    const forward = (): void => ctl.abort(signal?.reason);
    if (signal?.aborted) forward();
    signal?.addEventListener('abort', forward, { once: true });
    const p = (async () => {
      const slot = await this.pool.acquire(ctl.signal);
      try {
        return await this.runInSlot(slot, req, limits, ctl.signal);
      } finally {
        this.pool.release(slot);
      }
    })().finally(() => {
      signal?.removeEventListener('abort', forward);
      this.active.delete(ctl);
    });
    this.active.set(ctl, p);
    return p;
  }

  /** Re-runs the host checks and the startup probe in a free slot (see Sandbox.selfCheck). */
  async selfCheck(): Promise<string | null> {
    if (this.closed) return null; // closing (a shutdown) is not a broken host
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new SandboxInfraError('no free slot for the self-check within 60 s')), 60_000);
    let slot: number | undefined;
    let dir: string | undefined;
    try {
      preflight(this.privilege);
      slot = await this.pool.acquire(ctl.signal);
      dir = await this.makeJobDir(null);
      await probe({ ...this.launch, jobDir: dir, ...this.launchIds(slot) }, this.layout, this.memBytes(undefined), this.pidsMax);
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
      if (slot !== undefined) this.pool.release(slot);
      if (dir) await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Stops accepting runs, kills running sandboxes (their runs reject) and waits for cleanup. */
  async close(): Promise<void> {
    this.closed = true;
    const reason = new SandboxInfraError('sandbox closed');
    for (const ctl of this.active.keys()) ctl.abort(reason);
    await Promise.allSettled([...this.active.values()]);
    await Promise.allSettled(
      this.warm.map(async (p, slot) => {
        this.warm[slot] = undefined;
        const w = await p;
        if (w) await this.discard(w, slot);
      }),
    );
    this.lease.release();
  }

  /** A fresh job dir readable by the slot uids, holding only the code and the inputs. */
  async makeJobDir(job: { code: string; json: string } | null): Promise<string> {
    try {
      const dir = path.join(this.jobsDir, `job-${process.pid}-${++this.jobSeq}-${Date.now().toString(36)}`);
      await fsp.mkdir(dir, { mode: 0o755 });
      await fsp.chmod(dir, 0o755); // mkdir's mode is filtered by umask
      if (job) await writeJobFiles(dir, job);
      return dir;
    } catch (err) {
      throw new SandboxInfraError(`cannot prepare the job dir: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Starts the next pre-started sandbox of `slot`: as soon as the previous one is taken when each
   * sandbox has its own cgroup or pid namespace to sweep, else after the previous one is fully
   * cleaned up (so the slot-uid sweep of root mode without cgroups never meets it). A failure just
   * leaves the slot cold: the next run spawns its sandbox itself and reports any real problem.
   */
  private refill(slot: number): void {
    if (!this.warmPool || this.closed || this.warm[slot]) return;
    this.warm[slot] = (async () => {
      let dir: string | undefined;
      try {
        dir = await this.makeJobDir(null);
        if (this.closed) throw new Error('closed');
        return await WarmSandbox.start({
          launch: { ...this.launch, jobDir: dir, ...this.launchIds(slot) },
          layout: this.layout,
          memBytes: this.memBytes(undefined),
          pidsMax: this.pidsMax,
        });
      } catch {
        if (dir) await fsp.rm(dir, { recursive: true, force: true });
        return undefined;
      }
    })();
  }

  /** Fills the warm pool (after the probe). */
  startWarm(): void {
    for (let slot = 0; slot < this.lease.uids.length; slot++) this.refill(slot);
  }

  /** The slot's pre-started sandbox when it fits the request (same memory limit), else undefined. */
  private async takeWarm(slot: number, memBytes: number): Promise<WarmSandbox | undefined> {
    const p = this.warm[slot];
    this.warm[slot] = undefined;
    const w = await p;
    if (w && (w.memBytes !== memBytes || w.dead)) {
      await this.discard(w, slot);
      return undefined;
    }
    return w;
  }

  /**
   * Ends an unused pre-started sandbox and removes everything of it. Its stdin is closed first
   * (a waiting driver exits on EOF); if it has not exited within DISCARD_EXIT_MS it is killed, and
   * the cgroup (or slot uid, or pid namespace) is swept without waiting for the process's close
   * event: a sandbox pid 1 whose bwrap was killed before it armed its parent-death signal would
   * hold the pipes open for ever.
   */
  private async discard(w: WarmSandbox, slot: number): Promise<void> {
    const { uid } = this.launchIds(slot);
    const ns = uid === null && !w.cg ? sandboxPidNs(w.pid ?? -1) : undefined;
    const closed = new Promise<void>((resolve) =>
      w.take({ out: () => undefined, err: () => undefined, close: () => resolve(), error: () => resolve() }),
    );
    w.child.stdin.destroy();
    // A driver waiting for its go exits on that EOF, and bwrap then reaps it: nothing is left for
    // pid 1 to reap. A SIGKILL of bwrap would hand the driver to pid 1 instead, so it waits a
    // moment first (a sandbox still starting reads its stdin within milliseconds).
    if (!(await settlesWithin(closed, DISCARD_EXIT_MS))) {
      // Inside out (see killSandboxInit), then bwrap and the cgroup below if it does not exit.
      if (killSandboxInit(w.child)) await settlesWithin(closed, KILL_ESCALATE_MS);
      w.child.kill('SIGKILL');
    }
    let left: string[] = [];
    if (w.cg) left = await w.cg.destroy();
    else if (uid !== null) await waitUidGone(uid);
    else if (ns) await waitNsGone(ns);
    if (left.length) this.log(`sandbox: warning: could not remove cgroups ${left.join(', ')}`);
    if (!(await settlesWithin(closed, CLOSE_WAIT_MS))) {
      this.log(`sandbox: warning: an unused sandbox (pid ${w.pid ?? '?'}) kept its pipes open ${CLOSE_WAIT_MS} ms after it was killed`);
      w.child.stdout.destroy();
      w.child.stderr.destroy();
    }
    await fsp.rm(w.jobDir, { recursive: true, force: true });
  }

  /** The idle pre-started sandboxes (outer pid, cgroup dirs, job dir): for tests that check nothing else is left. */
  async idleSandboxes(): Promise<Array<{ pid: number; cgroups: string[]; jobDir: string }>> {
    const ws = await Promise.all(this.warm.map((p) => p));
    return ws
      .filter((w): w is WarmSandbox => !!w)
      .map((w) => ({ pid: w.pid ?? -1, cgroups: Object.values(w.cg?.dirs ?? {}).filter((d): d is string => !!d), jobDir: w.jobDir }));
  }

  private async runInSlot(slot: number, req: RunRequest, limits: number[], signal: AbortSignal): Promise<RunResult> {
    const n = req.inputs.length;
    if (n === 0) return { outcomes: [], sandboxes: 0 };
    const loadMs = Math.max(1000, ...limits);
    // JSON of strings and finite numbers is also a Python literal: the driver reads it with
    // ast.literal_eval and so never needs the (slow to import) json module.
    const factor = req.wallFactor ?? 1;
    const walls = limits.map((l) => Math.round(l * factor));
    // One budget for the whole attempt: the module load draws from it too, so answers computed at
    // import time cannot escape the per-input limits.
    const budgetMs = limits.reduce((a, b) => a + b, 0);
    const json = JSON.stringify({
      entry: req.entry,
      inputs: req.inputs,
      limits,
      walls,
      loadMs,
      budgetMs,
      nproc: RLIMITS.nproc,
      failFast: req.failFast ? 1 : 0,
    }); // numbers, not JSON booleans: the driver reads a Python literal
    const job = { code: req.code, json };
    let coldDir: string | undefined;
    const memBytes = this.memBytes(req.memoryMb);
    const outcomes: Array<InputOutcome | undefined> = new Array<InputOutcome | undefined>(n);
    let sandboxes = 0;
    const limitsHit = { oomKills: 0, pidsMax: 0 };
    let startRetries = 0;
    let baseCpuMs = 0;
    let protocolViolation: string | undefined;
    try {
      for (let next = 0; next < n;) {
        if (signal.aborted) throw signal.reason;
        sandboxes++;
        // A pre-started sandbox of this slot when there is one (used once, then refilled);
        // otherwise one is spawned now, on a job dir made once per attempt.
        const warm = await this.takeWarm(slot, memBytes);
        // Start the slot's next sandbox now, while this one runs, so that on a busy host the
        // next attempt does not wait for a start (the warm pool otherwise hides latency only
        // when a core is idle). Not in root mode without cgroups: there the slot uid's sweep
        // after this segment would kill it.
        if (this.layout.mode !== 'none' || this.privilege === 'user') this.refill(slot);
        let jobDir: string;
        if (warm) {
          try {
            await writeJobFiles(warm.jobDir, job);
          } catch (err) {
            await this.discard(warm, slot);
            throw new SandboxInfraError(`cannot prepare the job dir: ${(err as Error).message}`, { cause: err });
          }
          jobDir = warm.jobDir;
        } else jobDir = coldDir ??= await this.makeJobDir(job);
        const seg = await runSegment({
          launch: { ...this.launch, jobDir, ...this.launchIds(slot) },
          layout: this.layout,
          memBytes,
          warm,
          pidsMax: this.pidsMax,
          // The host watchdog backs up the wall limit; the driver enforces CPU and wall limits itself.
          start: next,
          limits: walls,
          cpuLimits: limits,
          loadMs,
          budgetMs,
          baseCpuMs,
          graceMs: GRACE_MS,
          startupMs: STARTUP_MS,
          signal,
          log: this.log,
        }).finally(async () => {
          if (warm) await fsp.rm(warm.jobDir, { recursive: true, force: true });
          this.refill(slot);
        });
        if (seg.killedBy === 'abort' || signal.aborted) throw signal.reason;
        limitsHit.oomKills += seg.stats?.oomKills ?? 0;
        limitsHit.pidsMax += seg.stats?.pidsMaxHits ?? 0;
        for (const r of seg.results) outcomes[r.i] = r.outcome;
        baseCpuMs += seg.usedCpuMs;
        next = seg.results.length ? seg.results[seg.results.length - 1]!.i + 1 : next;
        if (seg.load && seg.load.status !== 'ok') {
          fill(outcomes, next, { status: seg.load.status, error: seg.load.error });
          break;
        }
        if (next >= n) break;
        if (seg.spawnError || !seg.hello) {
          // EAGAIN at start (a host-wide process or memory spike) is worth a short retry; the
          // code has not run yet, so retrying cannot blame or favour it.
          if (startRetries < 3 && isTransient(seg)) {
            await new Promise((r) => setTimeout(r, 50 * 3 ** startRetries++));
            continue;
          }
          throw infraError(seg, STARTUP_MS);
        }
        const blame = blameFor(seg);
        if (blame === 'restart') continue;
        if (blame.status === 'protocol_violation') {
          // Detected forgery: never resumed, never silent; the attempt fails (compareOutcomes).
          protocolViolation = blame.error;
          fill(outcomes, next, { status: 'protocol_violation', error: blame.error });
          if (seg.load) fill(outcomes, next + 1, { status: 'skipped', error: 'not run: protocol violation on an earlier input' });
          break;
        }
        if (!seg.load) {
          // Died while executing the module: every input would die the same way.
          fill(outcomes, next, { status: blame.status, error: `${blame.error} while loading the module` });
          break;
        }
        const cpu = seg.stats?.cpuMs;
        const used = cpu === undefined ? undefined : Math.max(0, cpu - seg.lastTotCpuMs);
        // Measured CPU over the limit is a timeout whatever killed the sandbox (e.g. SIGXCPU
        // ignored, so RLIMIT_CPU's hard SIGKILL ended it): the cgroup's count, when there is one.
        const overCpu = blame.status === 'crash' && used !== undefined && used > (limits[next] ?? Infinity);
        outcomes[next] = {
          ...(overCpu
            ? {
                status: 'timeout' as const,
                error: `time limit exceeded (${Math.round(used)} ms of CPU by the cgroup's count, limit ${limits[next]} ms)`,
              }
            : blame),
          wallMs: seg.sinceLastLineMs,
          cpuMs: used,
        };
        baseCpuMs += outcomes[next]?.cpuMs ?? 0;
        next++;
        if (req.failFast) {
          fill(outcomes, next, { status: 'skipped', error: 'not run: an earlier input failed' });
          break;
        }
      }
    } finally {
      if (coldDir) await fsp.rm(coldDir, { recursive: true, force: true });
    }
    return { outcomes: outcomes as InputOutcome[], sandboxes, limitsHit, ...(protocolViolation ? { protocolViolation } : {}) };
  }
}

/** True when `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), t]);
  } finally {
    clearTimeout(timer);
  }
}

async function writeJobFiles(dir: string, job: { code: string; json: string }): Promise<void> {
  for (const [name, text] of [
    ['solution.py', job.code],
    ['job.json', job.json],
  ] as const) {
    await fsp.writeFile(path.join(dir, name), text, { mode: 0o644 });
    await fsp.chmod(path.join(dir, name), 0o644); // the mode is filtered by umask
  }
}

/** Validates the request and returns one time limit per input. */
function checkRequest(req: RunRequest): number[] {
  if (typeof req.code !== 'string') throw new TypeError('RunRequest.code must be a string');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(req.entry)) throw new TypeError(`RunRequest.entry is not a Python identifier: ${req.entry}`);
  if (!Array.isArray(req.inputs) || !req.inputs.every((s) => typeof s === 'string'))
    throw new TypeError('RunRequest.inputs must be strings');
  const limits = Array.isArray(req.timeLimitMs) ? req.timeLimitMs : req.inputs.map(() => req.timeLimitMs as number);
  if (limits.length !== req.inputs.length || !limits.every((t) => Number.isFinite(t) && t > 0)) {
    throw new TypeError('RunRequest.timeLimitMs must be a positive number or one per input');
  }
  if (req.memoryMb !== undefined && !(Number.isFinite(req.memoryMb) && req.memoryMb >= 16))
    throw new TypeError('RunRequest.memoryMb must be >= 16');
  if (req.wallFactor !== undefined && !(Number.isFinite(req.wallFactor) && req.wallFactor >= 1 && req.wallFactor <= 20))
    throw new TypeError('RunRequest.wallFactor must be in [1, 20]');
  return limits;
}

function isTransient(seg: { spawnError?: Error; stderr: string }): boolean {
  const code = (seg.spawnError as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EAGAIN' || code === 'ENOMEM' || /Resource temporarily unavailable|Cannot allocate memory/.test(seg.stderr);
}

function fill(outcomes: Array<InputOutcome | undefined>, from: number, o: { status: RunStatus; error: string }): void {
  for (let i = from; i < outcomes.length; i++) outcomes[i] = { status: o.status, error: o.error || undefined, wallMs: 0 };
}
