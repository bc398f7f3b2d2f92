/** The Python grader: bwrap sandbox + in-process driver + host-side comparison (docs/sandbox.md §6). */
export { createSandbox } from './runner';
export { blameFor } from './classify';
export { ensureStateDir } from './host-checks';
export { compareOutcomes } from './compare';
export { ensureSeccomp, SYSTEM_PYTHON } from './seccomp';
export { SandboxInfraError, SandboxSetupError } from './sandbox-errors';
export { sandboxArgv, RLIMITS } from './launch';
export type { LaunchSpec } from './launch';
export type { CgroupLayout, CgroupStats } from './cgroups';
export type {
  CgroupMode,
  InputOutcome,
  InputVerdict,
  PrivilegeMode,
  RunRequest,
  RunResult,
  RunStatus,
  Sandbox,
  SandboxInfo,
  SandboxOptions,
} from './contract';
