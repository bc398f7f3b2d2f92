/**
 * Errors the sandbox throws. Both mean "not the code's fault": a grading run that hits one must
 * not record a verdict for the solution.
 */

/** A run failed for a host-side reason (cannot spawn, cgroup join failed, driver never spoke). */
export class SandboxInfraError extends Error {
  override name = 'SandboxInfraError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The host cannot run sandboxes safely; the message names the cause and the fix. */
export class SandboxSetupError extends Error {
  override name = 'SandboxSetupError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
