/**
 * The launch chain of sandbox.md §6.2:
 *   root mode: sh shim (joins the cgroups) -> prlimit -> setpriv (slot uid) -> bwrap (+seccomp) -> python
 *   user mode: sh shim (joins a delegated cgroup, if any) -> prlimit -> bwrap (+seccomp) -> python,
 *              as the invoking non-root user, in an unprivileged user namespace.
 * Every step execs the next, so the pid Node sees is bwrap's; killing it tears down the pid
 * namespace and everything in it.
 */
import { spawn } from 'child_process';
import type { ChildProcessWithoutNullStreams } from 'child_process';
import fs from 'fs';
import { SYSTEM_PYTHON } from './seccomp';

/** Exit status of the shim when joining a cgroup failed (a host problem, not the code's). */
export const EXIT_CGROUP_JOIN = 125;
/** fd number bwrap reads the BPF filter from. */
const SECCOMP_FD = 9;

const SHIM = 'for f in $CGS; do echo $$ > "$f" || exit 125; done; exec "$@"';

export interface LaunchSpec {
  /**
   * Slot uid to drop to with setpriv before bwrap (root mode), or null to run bwrap as the
   * invoking user (user mode; refused when that user is root).
   */
  uid: number | null;
  /** RLIMIT_NPROC (counts every task of the host uid; user mode adds the user's own tasks). */
  nproc?: number;
  seccompPath: string;
  /** Host dir bound read-only at /sandbox/job (solution.py, job.json). */
  jobDir: string;
  /** Host path of the driver (.py or precompiled .pyc), bound read-only under /sandbox. */
  driverPath: string;
  /** Driver arguments after its path. */
  args: string[];
  /** cgroup.procs files to join before anything else starts. */
  procsFiles: string[];
  /** RLIMIT_CPU soft limit (s); the hard limit is one second later (SIGXCPU, then SIGKILL). */
  cpuSeconds: number;
}

/** Limits that do not depend on the job (sandbox.md §6.4). */
export const RLIMITS = {
  /** Loose backstop only: the memory cgroup is the real limit (1 GiB AS already caps threads). */
  asBytes: 1 << 30,
  nproc: 64,
  fsizeBytes: 16 << 20,
  nofile: 64,
  /** /tmp, a tmpfs: the only writable dir besides /dev/shm (tmpfs pages are memory, so both are capped in every mode). */
  tmpfsBytes: 32 << 20,
  /** /dev/shm, a tmpfs of its own; the rest of /dev is read-only. */
  shmBytes: 16 << 20,
};

/** argv for /bin/sh: shim, prlimit, setpriv (root mode only), bwrap, python. Exported for tests and the bench. */
export function sandboxArgv(spec: LaunchSpec): string[] {
  let drop: string[] = [];
  if (spec.uid === null) {
    // bwrap run as root stays host uid 0 inside, whatever its --uid says: never do that.
    if (process.getuid?.() === 0) throw new Error('refusing to run bwrap as root without a slot uid');
  } else {
    if (!Number.isInteger(spec.uid) || spec.uid <= 0) throw new Error(`refusing sandbox uid ${spec.uid}`);
    const u = String(spec.uid);
    // The uid must be dropped BEFORE bwrap: bwrap run as root stays host uid 0 even with --uid.
    drop = [
      '/usr/bin/setpriv',
      `--reuid=${u}`,
      `--regid=${u}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
      '--',
    ];
  }
  const driverIn = spec.driverPath.endsWith('.pyc') ? '/sandbox/driver.pyc' : '/sandbox/driver.py';
  const cpu = Math.max(1, Math.ceil(spec.cpuSeconds));
  const nproc = spec.nproc ?? RLIMITS.nproc;
  return [
    '-c',
    SHIM,
    'sh',
    '/usr/bin/prlimit',
    `--as=${RLIMITS.asBytes}`,
    `--cpu=${cpu}:${cpu + 1}`,
    `--nproc=${nproc}`,
    `--fsize=${RLIMITS.fsizeBytes}`,
    `--nofile=${RLIMITS.nofile}`,
    '--core=0',
    '--',
    ...drop,
    // bwrap sets no_new_privs itself (the probe checks it) and, unprivileged, makes its own
    // user namespace: inside, the code keeps the host uid it was started with, never 0.
    '/usr/bin/bwrap',
    '--unshare-all',
    // The driver is pid 1 of the sandbox's pid namespace: no separate reaper, which bwrap would
    // leave to our own pid 1 as a zombie (it returns on the reaper's status without waiting for
    // it). When the driver exits, the kernel kills whatever else is left in the namespace.
    '--as-pid-1',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--hostname',
    'sandbox',
    '--ro-bind',
    '/usr',
    '/usr',
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
    '--symlink',
    'usr/bin',
    '/bin',
    '--symlink',
    'usr/sbin',
    '/sbin',
    ...(fs.existsSync('/etc/ld.so.cache') ? ['--ro-bind', '/etc/ld.so.cache', '/etc/ld.so.cache'] : []),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // bwrap's /dev is an uncapped tmpfs: without cgroups (user mode) it would take host memory
    // past every limit. /dev/shm gets its own capped tmpfs, and /dev itself becomes read-only.
    '--perms',
    '1777',
    '--size',
    String(RLIMITS.shmBytes),
    '--tmpfs',
    '/dev/shm',
    '--remount-ro',
    '/dev',
    '--size',
    String(RLIMITS.tmpfsBytes),
    '--tmpfs',
    '/tmp',
    '--ro-bind',
    spec.jobDir,
    '/sandbox/job',
    '--ro-bind',
    spec.driverPath,
    driverIn,
    '--remount-ro',
    '/',
    '--chdir',
    '/tmp',
    '--clearenv',
    '--setenv',
    'PATH',
    '/usr/bin',
    '--setenv',
    'HOME',
    '/tmp',
    '--setenv',
    'LANG',
    'C.UTF-8',
    '--setenv',
    'PYTHONDONTWRITEBYTECODE',
    '1',
    '--setenv',
    'PYTHONHASHSEED',
    '0',
    // fewer glibc malloc arenas: threads then fit under the RLIMIT_AS backstop
    '--setenv',
    'MALLOC_ARENA_MAX',
    '2',
    '--seccomp',
    String(SECCOMP_FD),
    '--',
    SYSTEM_PYTHON,
    '-I',
    '-S',
    driverIn,
    ...spec.args,
  ];
}

/**
 * Spawns one sandbox. The seccomp file is opened per spawn: bwrap reads fd 9 to EOF, and a
 * shared open file description would leave the next sandbox reading an empty filter.
 */
export function spawnSandbox(spec: LaunchSpec): ChildProcessWithoutNullStreams {
  const fd = fs.openSync(spec.seccompPath, 'r');
  try {
    const stdio = ['pipe', 'pipe', 'pipe', ...Array<'ignore'>(SECCOMP_FD - 3).fill('ignore'), fd] as const;
    return spawn('/bin/sh', sandboxArgv(spec), {
      stdio: stdio as unknown as ['pipe', 'pipe', 'pipe'],
      env: { CGS: spec.procsFiles.join(' '), PATH: '/usr/bin:/bin' },
    }) as ChildProcessWithoutNullStreams;
  } finally {
    fs.closeSync(fd);
  }
}
