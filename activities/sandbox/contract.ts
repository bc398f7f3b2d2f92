/**
 * The sandbox contract: what the rest of Cairn sees of the grader.
 * Values crossing it are canonical strings produced inside the sandbox by a strict canonicalizer
 * (exact builtin types only), so comparison on the host is string equality.
 */

/** What happened when one input was run (decided in or around the sandbox). */
/**
 * 'protocol_violation': the code wrote into the driver's channel to the host (forged or garbage
 * lines). Set by the host only; the attempt fails and its remaining inputs are not run.
 */
export type RunStatus = 'ok' | 'error' | 'timeout' | 'memory_limit' | 'output_limit' | 'crash' | 'protocol_violation' | 'skipped';

/** Per-input verdict after host-side comparison with the expected value. */
export type InputVerdict = RunStatus | 'wrong';

export interface RunRequest {
  /** Python source defining `entry` (untrusted). */
  code: string;
  /** Name of the function to call, e.g. 'f'. */
  entry: string;
  /** Python-literal argument lists, e.g. `'John', {'age': 20}` (called as entry(*args)). */
  inputs: string[];
  /** Per-input time limit in ms of CPU time (one number for all, or one per input). */
  timeLimitMs: number | number[];
  /**
   * Wall-clock backstop as a multiple of the CPU limit (default 1). Above 1, a busy machine does
   * not turn a CPU-bound input into a timeout, while sleeping or blocked code still times out at
   * wallFactor x limit.
   */
  wallFactor?: number;
  /**
   * Stop at the first input that does not run cleanly; the rest are 'skipped'. For binary rewards
   * (every input must pass) this makes a looping attempt cost one time limit, not one per input.
   */
  failFast?: boolean;
  /** Memory limit for the whole sandbox, MiB. */
  memoryMb?: number;
}

export interface InputOutcome {
  status: RunStatus;
  /** Canonical form of the return value (a Python literal), present when status is 'ok'. */
  out?: string;
  /** Short error text (exception type and message), for 'error' and the limit statuses. */
  error?: string;
  /** CPU time the input used, ms. */
  cpuMs?: number;
  /** Wall time, ms. */
  wallMs: number;
}

export interface RunResult {
  /** One outcome per input, same order as the request. */
  outcomes: InputOutcome[];
  /** How many sandboxes were started to finish the job (>1 when one died and the rest resumed). */
  sandboxes: number;
  /** Cgroup events summed over the sandboxes (0 when cgroups are off): OOM kills, pids.max hits. */
  limitsHit?: { oomKills: number; pidsMax: number };
  /** Set when the host detected a protocol violation (forged lines on its channel): the attempt must fail. */
  protocolViolation?: string;
}

export interface Sandbox {
  /** Runs every input; throws SandboxInfraError when the failure is not the code's fault. */
  run(req: RunRequest, signal?: AbortSignal): Promise<RunResult>;
  /**
   * Proves again that this host can run sandboxes (the binaries are there, the startup probe
   * passes): null when it can, else why not. Asked after a run failed for a host-side reason, to
   * tell a passing hiccup from a broken host.
   */
  selfCheck?(): Promise<string | null>;
  close(): Promise<void>;
}

/** How the host limits and cleans up sandboxes: hybrid = v1 memory/pids + v2 for kill and CPU. */
export type CgroupMode = 'hybrid' | 'v2' | 'none';

export interface SandboxOptions {
  /**
   * Host directory for the seccomp filter, the compiled driver and per-run job dirs; created when
   * missing. Must be owned by the invoking user, not writable by others, and in root mode
   * traversable by the slot uids (so not under /root or a mode-700 dir). Several graders, even
   * of different Cairn versions, may share one: the files are named by content hash.
   */
  stateDir: string;
  /** Max concurrent sandboxes (default 2); further runs wait in a queue. */
  slots?: number;
  /**
   * Root mode only (unused in user mode, where every sandbox runs as the invoking user).
   * Slot uid = uidBase + slot (default 60000); must be > 0. Uids are leased host-wide because
   * RLIMIT_NPROC counts per uid: if another live grader holds them, the next free block is used
   * instead, with a warning (info.slotUids has the uids in use).
   */
  uidBase?: number;
  /** Default memory limit per sandbox, MiB (default 256); RunRequest.memoryMb overrides it. */
  memoryMb?: number;
  /** Max processes+threads per sandbox via the pids cgroup (default 32; RLIMIT_NPROC 64 per slot uid is the backstop). */
  pidsMax?: number;
  /** 'auto' (default) uses cgroups when available; 'off' relies on rlimits + pid namespace only. */
  cgroups?: 'auto' | 'off';
  /**
   * A cgroup v2 dir under which the sbx-* cgroups are made, with the memory and pids controllers
   * available to its children. Needed for cgroups in user mode (a subtree delegated to the user,
   * e.g. by systemd's Delegate=yes); in root mode it replaces /sys/fs/cgroup/cairn-sandbox.
   */
  cgroupParent?: string;
  /**
   * Keep one pre-started sandbox per slot (default true): bwrap, python and the driver's imports
   * are done before the job arrives, so they leave the attempt's critical path. Each is used for
   * one sandbox run only, then killed like any other; false spawns every sandbox on demand.
   */
  warm?: boolean;
  /** Diagnostics sink (warnings, stale cleanup). */
  log?: (msg: string) => void;
}

/**
 * root: Cairn runs as root; each slot's sandbox drops to its own leased uid with setpriv before bwrap.
 * user: Cairn runs as a normal user; bwrap makes an unprivileged user namespace and the code runs
 * as the invoking user's uid (never root); no per-slot uids, cgroups only in a delegated v2 subtree.
 */
export type PrivilegeMode = 'root' | 'user';

/** What the startup probe established about this host. */
export interface SandboxInfo {
  privilege: PrivilegeMode;
  cgroupMode: CgroupMode;
  /** Host uid of the sandboxed python in the probe, as read from /proc on the host (never 0). */
  sandboxUid: number;
  /** Uid of each slot (user mode: the invoking user's uid for every slot). */
  slotUids: number[];
  /** Network interfaces seen inside the sandbox (only 'lo'). */
  interfaces: string[];
  /** Python version inside the sandbox. */
  python: string;
  seccompPath: string;
  /** Stale sbx-* cgroups left by killed processes and removed at startup. */
  staleCgroupsRemoved: number;
  /** Wall time of the probe sandbox, ms. */
  probeMs: number;
  warnings: string[];
}
