/**
 * The sandbox contract: what the rest of Cairn sees of the grader.
 * Values crossing it are canonical strings produced inside the sandbox by a strict canonicalizer
 * (exact builtin types only), so comparison on the host is string equality.
 */

/** What happened when one input was run (decided in or around the sandbox). */
export type RunStatus = 'ok' | 'error' | 'timeout' | 'memory_limit' | 'output_limit' | 'crash';

/** Per-input verdict after host-side comparison with the expected value. */
export type InputVerdict = RunStatus | 'wrong';

export interface RunRequest {
  /** Python source defining `entry` (untrusted). */
  code: string;
  /** Name of the function to call, e.g. 'f'. */
  entry: string;
  /** Python-literal argument lists, e.g. `'John', {'age': 20}` (called as entry(*args)). */
  inputs: string[];
  /** Per-input time limit in ms (one number for all, or one per input). */
  timeLimitMs: number | number[];
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
}

export interface Sandbox {
  /** Runs every input; throws SandboxInfraError when the failure is not the code's fault. */
  run(req: RunRequest, signal?: AbortSignal): Promise<RunResult>;
  close(): Promise<void>;
}
