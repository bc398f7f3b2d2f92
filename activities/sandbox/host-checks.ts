/**
 * Host checks done once per createSandbox: required binaries, a safe and traversable state dir, the
 * precompiled driver, and the startup probe (a real sandbox whose uid, network and seccomp state
 * are verified from the host). Everything here fails with SandboxSetupError naming cause and fix.
 */
import { execFile } from 'child_process';
import { createHash } from 'crypto';
import fs from 'fs';
import path from 'path';
import { SandboxSetupError } from './sandbox-errors';
import { JobCgroups, pidAlive } from './cgroups';
import type { CgroupLayout } from './cgroups';
import { EXIT_CGROUP_JOIN, spawnSandbox } from './launch';
import type { LaunchSpec } from './launch';
import { SYSTEM_PYTHON } from './seccomp';
import { sandboxPidNs, waitNsGone } from './procs';
import { waitUidGone } from './uids';

const SETUP_HINT = '(npm run setup installs the sandbox packages)';
const DRIVER_SRC = path.join(__dirname, 'driver.py');

/** Binaries the launch chain needs (setpriv only in root mode, where it drops to the slot uid). */
export function preflight(privilege: 'root' | 'user'): void {
  const need: Array<[string, string]> = [
    ['/usr/bin/bwrap', 'apt-get install bubblewrap'],
    [SYSTEM_PYTHON, 'apt-get install python3'],
    ...(privilege === 'root' ? [['/usr/bin/setpriv', 'apt-get install util-linux'] as [string, string]] : []),
    ['/usr/bin/prlimit', 'apt-get install util-linux'],
    ['/bin/sh', 'apt-get install dash'],
  ];
  for (const [file, fix] of need) {
    if (!fs.existsSync(file)) throw new SandboxSetupError(`${file} is missing: ${fix} ${SETUP_HINT}`);
  }
  // A setuid bwrap changes which options are honoured; this design assumes the plain Debian one.
  if (fs.statSync('/usr/bin/bwrap').mode & 0o4000) {
    throw new SandboxSetupError(
      '/usr/bin/bwrap is setuid-root; this sandbox expects the unprivileged Debian build (chmod u-s /usr/bin/bwrap)',
    );
  }
}

const STATE_DIR_HINT = 'or choose another state dir (CAIRN_SANDBOX_STATE_DIR for workers and `cairn setup`, --state-dir for `cairn grade`)';

/**
 * Creates `stateDir` when missing and checks it can hold the sandbox's files: owned by the
 * invoking user and writable by nobody else (whoever can write there could swap the seccomp
 * filter or the driver of every sandbox) and, in root mode, traversable by the slot uids from /
 * down (bwrap binds the driver and the job dir as that uid). Dirs it creates get 0755 (root) or
 * 0700 (user), whatever the umask. Returns the absolute path.
 */
export function ensureStateDir(stateDir: string, privilege: 'root' | 'user'): string {
  const dir = path.resolve(stateDir);
  let first: string | undefined;
  try {
    first = fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new SandboxSetupError(`cannot create the sandbox state dir ${dir}: ${(err as Error).message}; fix that ${STATE_DIR_HINT}`, {
      cause: err,
    });
  }
  for (let d = dir; first !== undefined; d = path.dirname(d)) {
    fs.chmodSync(d, privilege === 'root' ? 0o755 : 0o700);
    if (d === first || d === path.dirname(d)) break;
  }
  const st = fs.statSync(dir);
  const me = process.getuid?.() ?? 0;
  if (st.uid !== me || st.mode & 0o022) {
    const why =
      st.uid !== me
        ? `is owned by uid ${st.uid}, not by uid ${me} who runs the sandbox`
        : `is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`;
    throw new SandboxSetupError(
      `sandbox state dir ${dir} ${why}: whoever can write there could replace the seccomp filter or the driver. ` +
        `chown it to uid ${me} and chmod go-w ${dir}, ${STATE_DIR_HINT}`,
    );
  }
  if (privilege === 'user') return dir;
  for (let d = dir; ; d = path.dirname(d)) {
    const mode = fs.statSync(d).mode;
    if (!(mode & 0o001)) {
      throw new SandboxSetupError(
        `stateDir ${dir}: ${d} is not traversable by the sandbox uids (mode ${(mode & 0o777).toString(8)}); ` +
          `chmod o+x ${d}, ${STATE_DIR_HINT} outside private dirs such as /root`,
      );
    }
    if (d === path.dirname(d)) break;
  }
  return dir;
}

/**
 * ensureStateDir, then `<stateDir>/jobs` (root: traversable but not listable by the slot uids;
 * user: private). Returns the jobs dir.
 */
export function prepareStateDir(stateDir: string, privilege: 'root' | 'user'): string {
  const jobs = path.join(ensureStateDir(stateDir, privilege), 'jobs');
  try {
    fs.mkdirSync(jobs, { recursive: true });
    fs.chmodSync(jobs, privilege === 'root' ? 0o711 : 0o700);
  } catch (err) {
    throw new SandboxSetupError(
      `cannot make the sandbox job dir ${jobs}: ${(err as Error).message}; remove what is in the way ${STATE_DIR_HINT}`,
      { cause: err },
    );
  }
  return jobs;
}

/** Removes job dirs (job-<pid>-...) of host processes that died mid-run (kill -9). */
export function removeStaleJobDirs(jobsDir: string, log: (m: string) => void): number {
  let removed = 0;
  for (const name of fs.readdirSync(jobsDir)) {
    const pid = Number(/^job-(\d+)-/.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid || pidAlive(pid)) continue;
    fs.rmSync(path.join(jobsDir, name), { recursive: true, force: true });
    log(`sandbox: removed stale job dir ${name}`);
    removed++;
  }
  return removed;
}

/**
 * Compiles driver.py to `<stateDir>/driver-<hash>.pyc` with the sandbox's python (running the
 * .pyc skips parsing the driver in every sandbox). The name hashes the driver source and the
 * interpreter it was compiled for, so checkouts with different drivers (or a python upgrade)
 * sharing one state dir never run each other's bytecode; the file is written under a temp name
 * and renamed, so a concurrent start never reads half of it.
 */
export async function prepareDriver(stateDir: string): Promise<string> {
  const python = fs.realpathSync(SYSTEM_PYTHON);
  const hash = createHash('sha256').update(fs.readFileSync(DRIVER_SRC)).update(`\0${python}`).digest('hex').slice(0, 16);
  const out = path.join(stateDir, `driver-${hash}.pyc`);
  if (!fs.statSync(out, { throwIfNoEntry: false })?.size) {
    const tmp = `${out}.tmp${process.pid}`;
    const code = 'import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)';
    await new Promise<void>((resolve, reject) =>
      execFile(SYSTEM_PYTHON, ['-I', '-S', '-c', code, DRIVER_SRC, tmp], { timeout: 30_000 }, (err, _o, stderr) =>
        err ? reject(new SandboxSetupError(`cannot compile the driver: ${stderr || err.message}`, { cause: err })) : resolve(),
      ),
    );
    fs.chmodSync(tmp, 0o644);
    fs.renameSync(tmp, out);
  }
  fs.chmodSync(out, 0o644);
  return out;
}

export interface ProbeResult {
  uid: number;
  interfaces: string[];
  python: string;
  ms: number;
}

interface ProbeLine {
  pid?: number;
  uid?: number;
  ifaces?: string[];
  pid1?: string;
  seccomp?: string;
  nnp?: string;
  py?: string;
}

/** Starts one real sandbox and verifies from the host that it is what we think it is. */
export async function probe(
  launch: Omit<LaunchSpec, 'procsFiles' | 'args' | 'cpuSeconds'>,
  layout: CgroupLayout,
  memBytes: number,
  pidsMax: number,
): Promise<ProbeResult> {
  const t0 = Date.now();
  const cg = layout.mode === 'none' ? undefined : JobCgroups.create(layout, memBytes, pidsMax);
  let ns: string | undefined;
  try {
    const child = spawnSandbox({ ...launch, procsFiles: cg?.procsFiles ?? [], args: ['--probe'], cpuSeconds: 10 });
    let stdout = '';
    let stderr = '';
    let failure: SandboxSetupError | undefined;
    let line: ProbeLine | undefined;
    let hostUid = -1;
    child.stdin.on('error', () => undefined);
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(0, 8192)));
    const timer = setTimeout(() => {
      failure = new SandboxSetupError('the probe sandbox did not answer within 15 s (host overloaded, or bwrap hangs)');
      child.kill('SIGKILL');
    }, 15_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const nl = stdout.indexOf('\n');
      if (nl < 0 || line) return;
      try {
        line = JSON.parse(stdout.slice(0, nl)) as ProbeLine;
        ns = sandboxPidNs(child.pid ?? -1);
        const tree = checkTree(child.pid ?? -1);
        if (tree instanceof SandboxSetupError) failure = tree;
        else hostUid = tree;
        const me = process.getuid?.() ?? -1;
        if (!failure && launch.uid === null && hostUid !== me) {
          failure = new SandboxSetupError(
            `user mode: the sandboxed python runs as host uid ${hostUid}, expected the invoking user's ${me}`,
          );
        }
        if (!failure && launch.uid !== null && hostUid !== launch.uid) {
          failure = new SandboxSetupError(`the sandboxed python runs as host uid ${hostUid}, expected slot uid ${launch.uid}`);
        }
      } catch (err) {
        failure = err instanceof SandboxSetupError ? err : new SandboxSetupError(`bad probe output: ${stdout.slice(0, 200)}`);
      }
      child.stdin.end(); // lets the probe exit
    });
    const [code, spawnErr] = await new Promise<[number | null, Error | undefined]>((resolve) => {
      child.on('error', (err) => resolve([null, err]));
      child.on('close', (c) => resolve([c, undefined]));
    });
    clearTimeout(timer);
    if (failure) throw failure;
    if (spawnErr) throw new SandboxSetupError(`cannot spawn the sandbox: ${spawnErr.message}`, { cause: spawnErr });
    if (!line) throw explainStartFailure(code, stderr);
    return { ...checkLine(line), uid: hostUid, ms: Date.now() - t0 };
  } finally {
    if (cg) await cg.destroy();
    else if (launch.uid !== null) await waitUidGone(launch.uid);
    else if (ns) await waitNsGone(ns);
  }
}

/**
 * Reads, from the host, the uids of every process under the sandbox's pid: none may be root.
 * Returns the sandboxed python's host uid.
 */
function checkTree(rootPid: number): SandboxSetupError | number {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const todo = [rootPid];
  let pythonUid: number | undefined;
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    todo.push(...(children.get(pid) ?? []));
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue; // exited meanwhile (e.g. a short-lived helper): nothing left to check
    }
    const uids = (/^Uid:\s+(.*)$/m.exec(status)?.[1] ?? '0').trim().split(/\s+/).map(Number);
    if (/^Name:\s+python/m.test(status)) pythonUid = uids[0];
    if (uids.some((u) => u === 0)) {
      return new SandboxSetupError(
        `sandboxed process ${pid} runs as host uid 0 (Uid: ${uids.join(' ')}); it could read root-only files. ` +
          'Root mode must drop to the slot uid with setpriv before bwrap (never bwrap --uid as root; uidBase > 0); ' +
          'user mode must not run as root.',
      );
    }
  }
  return pythonUid ?? new SandboxSetupError('probe: the sandboxed python was not found under the bwrap process');
}

function checkLine(line: ProbeLine): Omit<ProbeResult, 'uid' | 'ms'> {
  const ifaces = Array.isArray(line.ifaces) ? line.ifaces.map(String) : [];
  if (ifaces.some((i) => i !== 'lo')) {
    throw new SandboxSetupError(
      `the sandbox network namespace has interfaces besides lo (${ifaces.join(', ')}); bwrap --unshare-all did not isolate the network`,
    );
  }
  // bwrap --as-pid-1: the driver itself is pid 1 of a private pid namespace.
  if (line.pid !== 1)
    throw new SandboxSetupError(
      `the sandbox has no private pid namespace (the driver is pid ${String(line.pid)}, pid 1 is ${String(line.pid1)})`,
    );
  if (line.seccomp !== '2')
    throw new SandboxSetupError(
      `the seccomp filter is not active in the sandbox (Seccomp: ${String(line.seccomp)}); regenerate it by deleting seccomp-*.bpf in the state dir`,
    );
  if (line.nnp !== '1') throw new SandboxSetupError('no_new_privs is not set in the sandbox (setpriv --no-new-privs failed)');
  return { interfaces: ifaces, python: String(line.py ?? '') };
}

/** The launch shim could not move itself into the sandbox cgroups (user mode falls back to none). */
export class CgroupJoinError extends SandboxSetupError {}

function explainStartFailure(code: number | null, stderr: string): SandboxSetupError {
  const err = stderr.trim().slice(0, 500) || '(no stderr)';
  if (code === EXIT_CGROUP_JOIN) {
    return new CgroupJoinError(
      `cannot join the sandbox cgroups: ${err}. Fix: run as root with writable cgroups, give a normal user a delegated ` +
        "cgroup v2 subtree that also holds Cairn's own cgroup, or create the sandbox with cgroups: 'off'",
    );
  }
  if (/namespace|uid map|unshare|Operation not permitted|No permissions/i.test(stderr)) {
    return new SandboxSetupError(
      `bwrap cannot create namespaces: ${err}. Fix: allow unprivileged user namespaces ` +
        '(sysctl user.max_user_namespaces=15000; kernel.unprivileged_userns_clone=1 on older Debian; ' +
        'kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 24.04), or run the container with --privileged ' +
        '(or seccomp=unconfined and apparmor=unconfined).',
    );
  }
  return new SandboxSetupError(`the probe sandbox failed to start (exit ${String(code)}): ${err}`);
}
