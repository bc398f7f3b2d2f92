/**
 * User mode: Cairn run by a normal user. The sandbox is started for real by a non-root user
 * (created here when the suite runs as root; the current user otherwise), as a small script.
 * The script and the sandbox code are bundled (esbuild, which tsx ships) into a world-readable
 * temp dir with driver.py, mkseccomp.py and answers.py beside them, so the test works wherever the checkout
 * lives (a clone under /root is not readable by other users).
 */
import { execFileSync } from 'child_process';
import { buildSync } from 'esbuild';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { sandboxArgv } from '../../activities/sandbox';
import { detectCgroups } from '../../activities/sandbox/cgroups';
import { spawnTracked } from '../helpers/tracked-processes';
import { liveProcsOf } from './sandbox-helpers';
import { ANSWERS_PY } from '../../activities/environments/answers-py';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join(__dirname, 'fixtures/user-mode.ts');
const SANDBOX_DIR = path.join(ROOT, 'activities/sandbox');
const USER = 'cairn-sbx-user';
const asRoot = process.getuid?.() === 0;

/** uid/gid of the normal user that runs the fixture, created when missing (root only). */
function normalUser(): { uid: number; gid: number } {
  if (!asRoot) return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  const id = (flag: string): number => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', USER], {
        stdio: 'pipe',
      });
    } catch (err) {
      throw new Error(`cannot create the test user ${USER} with useradd (needed to test user mode): ${String(err)}`);
    }
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** The fixture as one JS file in a fresh world-readable dir, with the Python files the sandbox loads by __dirname. */
function bundleFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-user-mode-'));
  fs.chmodSync(dir, 0o755);
  const out = path.join(dir, 'user-mode.js');
  buildSync({ entryPoints: [FIXTURE], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: out, logLevel: 'error' });
  for (const f of ['driver.py', 'mkseccomp.py']) fs.copyFileSync(path.join(SANDBOX_DIR, f), path.join(dir, f));
  // The host-side comparison runs answers.py, found beside the (bundled) module too.
  fs.copyFileSync(ANSWERS_PY, path.join(dir, 'answers.py'));
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
  return out;
}

/** Runs the fixture as the normal user (optionally wrapped, e.g. in a namespace-less bwrap); returns its JSON report. */
function runFixture(
  script: string,
  user: { uid: number; gid: number },
  args: string[],
  wrap: string[] = [],
): Promise<Record<string, unknown>> {
  const drop = asRoot ? ['/usr/bin/setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--'] : [];
  const argv = [...drop, ...wrap, process.execPath, script, ...args];
  return new Promise((resolve, reject) => {
    // cwd / : nothing of the checkout is needed, and the user can always enter it.
    const child = spawnTracked(argv[0]!, argv.slice(1), {
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', HOME: '/tmp', TMPDIR: os.tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out) as Record<string, unknown>);
      } catch {
        reject(
          new Error(
            `the user-mode fixture ${script} failed as uid ${user.uid} (exit ${code}); stderr: ${err.slice(0, 2000)} stdout: ${out.slice(0, 500)}`,
          ),
        );
      }
    });
  });
}

interface CaseResult {
  name: string;
  statuses: string[];
  outs: Array<string | null>;
  errors: Array<string | null>;
  sandboxes: number;
  ms: number;
  leftovers: string[];
}

describe('user mode, run by a real non-root user', () => {
  let user: { uid: number; gid: number };
  let report: Record<string, unknown>;
  let refusal: Record<string, unknown>;
  let killed: Record<string, unknown>;
  let bundleDir: string | undefined;
  const byName = (name: string): CaseResult => (report.results as CaseResult[]).find((r) => r.name === name)!;

  beforeAll(async () => {
    user = normalUser();
    expect(user.uid).toBeGreaterThan(0);
    // Both at once: the suite stays fast. The refusal run sits in a user namespace whose
    // max_user_namespaces is 0 (bwrap --disable-userns): bwrap cannot make the sandbox's namespaces.
    const wrap = ['/usr/bin/bwrap', '--dev-bind', '/', '/', '--unshare-user', '--disable-userns', '--'];
    const script = bundleFixture();
    bundleDir = path.dirname(script);
    [report, refusal] = await Promise.all([runFixture(script, user, []), runFixture(script, user, ['--refusal'], wrap)]);
    // Alone: the main run's leftover check would see this run's (deliberately killed) sandbox.
    killed = await runFixture(script, user, ['--kill9']);
  });

  afterAll(() => {
    if (bundleDir) fs.rmSync(bundleDir, { recursive: true, force: true });
    if (user && asRoot) expect(liveProcsOf([user.uid])).toEqual([]);
  });

  test('mode is logged and the probe saw the invoking uid, only lo, and the fallback named', () => {
    const info = report.info as Record<string, unknown>;
    expect(report.uid).toBe(user.uid);
    expect(info.privilege).toBe('user');
    expect(info.sandboxUid).toBe(user.uid);
    expect(info.interfaces).toEqual(['lo']);
    expect((report.logs as string[]).join('\n')).toMatch(
      new RegExp(`user mode \\(uid ${user.uid}\\): bwrap in an unprivileged user namespace`),
    );
    if (info.cgroupMode === 'none') expect((info.warnings as string[]).join(' ')).toMatch(/normal user.*rlimits and the pid namespace/);
  });

  test('benign code gives canonical outputs and passes host comparison', () => {
    expect(byName('canonical').statuses).toEqual(['ok', 'ok']);
    expect(report.canonicalPass).toBe(true);
  });

  test('hostile cases get the right verdicts within bounds', () => {
    // Bounds as in hostile.test.ts: the 1 s limit plus room for sandbox start on a loaded machine.
    expect(byName('loop')).toMatchObject({ statuses: ['timeout'], errors: ['time limit exceeded'] });
    expect(byName('loop').ms).toBeLessThan(2000);
    expect(byName('forkBomb')).toMatchObject({ statuses: ['timeout'] });
    expect(byName('forkBomb').ms).toBeLessThan(3000);
    expect(byName('daemons')).toMatchObject({ statuses: ['ok', 'ok'], outs: ['1', '2'] });
    expect(byName('memoryBomb').statuses).toEqual(['memory_limit']);
    expect(byName('segfault')).toMatchObject({ statuses: ['ok', 'crash', 'ok'], sandboxes: 2 });
    expect(byName('files').outs).toEqual([
      "'FileNotFoundError'",
      "'FileNotFoundError'",
      "'FileNotFoundError'",
      "'FileNotFoundError'",
      '30',
      "'written'",
    ]);
    // Past the caps a write fails with ENOSPC (EROFS on /dev): no host memory beyond 16 + 32 MiB.
    expect(byName('tmpfsCaps').outs).toEqual(["('ENOSPC', 16)", "('ENOSPC', 32)", "('EROFS', 0)"]);
    expect(byName('network').outs).toEqual(["'PermissionError'", "'PermissionError'"]);
    expect(byName('privileges').outs).toEqual(['(-1, 1)', '(-1, 1)', `'${user.uid}'`]);
  });

  test('no sandbox process outlives any case (pid-namespace teardown, no cgroups)', () => {
    for (const r of report.results as CaseResult[])
      expect({ name: r.name, leftovers: r.leftovers }).toEqual({ name: r.name, leftovers: [] });
  });

  test('SIGKILL of the grading process mid-run: nothing of its sandbox is alive 1 s later', () => {
    expect(killed.before).toBeGreaterThanOrEqual(5); // bwrap pid 1, python, 3 daemons
    expect(killed.after).toEqual([]);
  });

  test('the probe refuses to grade when namespaces are unavailable, naming the fix', () => {
    expect(refusal).toMatchObject({ refused: true, name: 'SandboxSetupError', leftovers: [] });
    expect(refusal.message).toMatch(/bwrap cannot create namespaces.*max_user_namespaces/);
  });
});

describe('user-mode guards (pure)', () => {
  const spec = { seccompPath: '/s', jobDir: '/j', driverPath: '/d.pyc', args: [], procsFiles: [], cpuSeconds: 1 };

  test('bwrap is never run as root without a slot uid; a slot uid goes through setpriv', () => {
    if (asRoot) expect(() => sandboxArgv({ ...spec, uid: null })).toThrow(/refusing to run bwrap as root/);
    else expect(sandboxArgv({ ...spec, uid: null })).not.toContain('/usr/bin/setpriv');
    expect(() => sandboxArgv({ ...spec, uid: 0 })).toThrow(/refusing sandbox uid 0/);
    const argv = sandboxArgv({ ...spec, uid: 60123, nproc: 99 });
    expect(argv.indexOf('/usr/bin/setpriv')).toBeLessThan(argv.indexOf('/usr/bin/bwrap'));
    expect(argv).toContain('--reuid=60123');
    expect(argv).toContain('--nproc=99');
  });

  test('cgroups in user mode: only a delegated v2 dir with memory and pids is used', () => {
    const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fake-cgroupfs-'));
    try {
      // On a hybrid (v1) host a normal user gets no cgroups, with the reason.
      fs.mkdirSync(path.join(fake, 'memory'));
      expect(detectCgroups({ privilege: 'user', root: fake })).toMatchObject({
        layout: { mode: 'none' },
        warning: expect.stringMatching(/v1\/hybrid/),
      });
      // Pure v2: a delegated dir whose children get memory+pids is used as is.
      fs.writeFileSync(path.join(fake, 'cgroup.controllers'), 'cpu memory pids\n');
      const dir = path.join(fake, 'user.slice', 'cairn');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'cgroup.controllers'), 'memory pids\n');
      fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), 'memory pids\n');
      expect(detectCgroups({ privilege: 'user', root: fake })).toMatchObject({
        layout: { mode: 'none' },
        warning: expect.stringMatching(/delegated cgroup/),
      });
      expect(detectCgroups({ privilege: 'user', root: fake, parent: dir })).toEqual({ layout: { mode: 'v2', unifiedParent: dir } });
      fs.writeFileSync(path.join(dir, 'cgroup.controllers'), 'cpu\n');
      expect(detectCgroups({ privilege: 'user', root: fake, parent: dir }).warning).toMatch(/memory, pids are not delegated/);
    } finally {
      fs.rmSync(fake, { recursive: true, force: true });
    }
  });
});
