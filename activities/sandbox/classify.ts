/**
 * What a sandbox death means. The driver reports every input it finishes; when the sandbox ends
 * early, the input that was running is blamed from the evidence the host has (cgroup OOM counter,
 * its own kill reason, the exit status), or the failure is the host's (before the driver's hello).
 */
import { constants as osConstants } from 'os';
import { SandboxInfraError } from './sandbox-errors';
import { EXIT_CGROUP_JOIN } from './launch';
import type { SegmentResult } from './segment';
import type { RunStatus } from './contract';

/** The driver's "threads were left running, restart me" exit status. */
const EXIT_CONTAMINATED = 3;

const SIGNAL_NAMES = new Map<number, string>(Object.entries(osConstants.signals).map(([k, v]) => [v, k]));

export const PROTOCOL_VIOLATION = "protocol violation: the code wrote forged or garbage lines into the grader's channel";

/** Why the sandbox died while running an input; 'restart' = driver asked for a clean restart. */
export function blameFor(seg: SegmentResult): { status: RunStatus; error: string } | 'restart' {
  if (seg.killedBy === 'output') return { status: 'output_limit', error: 'output to the host channel exceeded its cap' };
  if (seg.killedBy === 'protocol') return { status: 'protocol_violation', error: PROTOCOL_VIOLATION };
  if ((seg.stats?.oomKills ?? 0) > 0) return { status: 'memory_limit', error: 'killed by the memory cgroup (out of memory)' };
  if (seg.killedBy === 'watchdog') return { status: 'timeout', error: 'time limit exceeded (sandbox killed by the host)' };
  // bwrap exits with 128+N when the sandboxed command died from signal N
  const sig = seg.signal ?? (seg.code !== null && seg.code > 128 ? SIGNAL_NAMES.get(seg.code - 128) : undefined);
  if (sig === 'SIGXCPU') return { status: 'timeout', error: 'CPU time limit exceeded' };
  // Exit 3 counts only after progress: code that calls os._exit(3) itself must not loop forever.
  if (seg.code === EXIT_CONTAMINATED && seg.results.length > 0) return 'restart';
  if (sig) return { status: 'crash', error: `killed by ${sig}` };
  return { status: 'crash', error: `sandbox exited with code ${String(seg.code)} before reporting` };
}

/** The error for a sandbox that failed before the driver said hello (never the code's fault). */
export function infraError(seg: SegmentResult, startupMs: number): SandboxInfraError {
  if (seg.spawnError) return new SandboxInfraError(`cannot spawn the sandbox: ${seg.spawnError.message}`, { cause: seg.spawnError });
  const why =
    seg.code === EXIT_CGROUP_JOIN
      ? 'the launch shim could not join the cgroups'
      : seg.killedBy === 'watchdog'
        ? `the driver did not start within ${startupMs} ms`
        : seg.killedBy === 'protocol'
          ? 'the driver wrote garbage before its first line'
          : `the sandbox ended before the driver started (exit ${String(seg.code)}, signal ${String(seg.signal)})`;
  return new SandboxInfraError(`${why}${seg.stderr ? `: ${seg.stderr.trim().slice(0, 1000)}` : ''}`);
}
