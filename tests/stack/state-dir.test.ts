/**
 * The sandbox state dir (seccomp filter, compiled driver, job dirs) lives where the sandbox can
 * reach it whatever the checkout's path: a copy of this checkout inside a mode-700 directory
 * (like a clone under /root or in `mktemp -d`) runs `cairn setup`, grades real code in the real
 * sandbox and starts the grader worker. Plus the setting's parsing, the safety checks, and two driver versions sharing
 * one state dir.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureStateDir, SandboxSetupError } from '../../activities/sandbox';
import { ConfigError, loadConfig, ROOT_SANDBOX_STATE_DIR, sandboxStateDir } from '../../workers/config/load-config';
import { createTestDb } from '../helpers/db';
import { startTestEnv, temporalCliPath } from '../helpers/temporal';
import { cleanEnv, ROOT, startCairn } from './stack-helpers';

const asRoot = process.getuid?.() === 0;
const privilege = asRoot ? 'root' : 'user';
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-state-'));
  fs.chmodSync(tmp, 0o755);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `node <root>/scripts/cairn.js ...args`, to completion. */
function cairn(root: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'scripts/cairn.js'), ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('CAIRN_SANDBOX_STATE_DIR', () => {
  test('default: outside the checkout, its tools dir and its data dir', () => {
    const env = { CAIRN_TOOLS_DIR: '/private/x/.tools', CAIRN_DATA_DIR: '/private/x/.data', HOME: '/home/u' };
    expect(sandboxStateDir(env, 0)).toBe(ROOT_SANDBOX_STATE_DIR);
    expect(ROOT_SANDBOX_STATE_DIR).toBe('/var/lib/cairn/sandbox');
    expect(sandboxStateDir(env, 1000)).toBe('/home/u/.local/state/cairn/sandbox');
    expect(sandboxStateDir({ ...env, XDG_STATE_HOME: '/xdg' }, 1000)).toBe('/xdg/cairn/sandbox');
    expect(loadConfig(env).sandbox.stateDir).toBe(sandboxStateDir(env));
    expect(loadConfig(env).sandbox.stateDir.startsWith(ROOT)).toBe(false);
  });

  test('set: an absolute path, used as given', () => {
    expect(loadConfig({ CAIRN_SANDBOX_STATE_DIR: '/srv/cairn//sandbox/' }).sandbox.stateDir).toBe('/srv/cairn/sandbox');
  });

  test.each([
    ['a relative path', 'state', /CAIRN_SANDBOX_STATE_DIR=state is not an absolute path\. Set it to an absolute path/],
    ['the filesystem root', '/', /CAIRN_SANDBOX_STATE_DIR=\/ is the filesystem root/],
    ['a newline', '/a\nb', /CAIRN_SANDBOX_STATE_DIR contains a newline/],
  ])('a bad value (%s) is a ConfigError naming the variable and the fix', (_name, value, message) => {
    let err: unknown;
    try {
      loadConfig({ CAIRN_SANDBOX_STATE_DIR: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });

  test('`cairn setup` with a bad value fails in one paragraph, exit 1', async () => {
    const r = await cairn(ROOT, ['setup', '--quiet'], cleanEnv({ CAIRN_SANDBOX_STATE_DIR: 'relative/dir' }));
    expect(r).toMatchObject({ code: 1 });
    expect(r.out).toMatch(/^cairn: CAIRN_SANDBOX_STATE_DIR=relative\/dir is not an absolute path/);
  });
});

describe('ensureStateDir', () => {
  test('creates missing dirs with a fixed mode whatever the umask', () => {
    const dir = path.join(tmp, 'made', 'a', 'b');
    const old = process.umask(0o077);
    try {
      expect(ensureStateDir(dir, privilege)).toBe(dir);
    } finally {
      process.umask(old);
    }
    for (const d of [path.join(tmp, 'made'), dir]) expect(fs.statSync(d).mode & 0o777).toBe(asRoot ? 0o755 : 0o700);
  });

  test('refuses a dir that others can write to (they could swap the filter or the driver)', () => {
    const dir = path.join(tmp, 'open');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    expect(() => ensureStateDir(dir, privilege)).toThrow(SandboxSetupError);
    expect(() => ensureStateDir(dir, privilege)).toThrow(/writable by group or others \(mode 777\).*chmod go-w .*CAIRN_SANDBOX_STATE_DIR/);
  });

  test('as root, refuses a dir under a mode-700 dir, naming the fix and the setting', () => {
    const parent = path.join(tmp, 'private');
    fs.mkdirSync(parent, { mode: 0o700 });
    fs.chmodSync(parent, 0o700);
    const dir = path.join(parent, 'state');
    if (asRoot)
      expect(() => ensureStateDir(dir, 'root')).toThrow(
        /private is not traversable by the sandbox uids \(mode 700\); chmod o\+x .*CAIRN_SANDBOX_STATE_DIR/,
      );
    else expect(ensureStateDir(dir, 'user')).toBe(dir); // user mode: the sandbox runs as this user, private is fine
  });
});

describe('a checkout inside a mode-700 directory', () => {
  let copy: string;
  let env: NodeJS.ProcessEnv;
  let jobs: string;

  beforeAll(() => {
    // Like `git clone ... $(mktemp -d)/cairn`: the checkout's sources under a private dir, its
    // .tools/ and .data/ inside it (their defaults), node_modules shared with this checkout.
    const priv = fs.mkdtempSync(path.join(tmp, 'home-'));
    fs.chmodSync(priv, 0o700);
    copy = path.join(priv, 'cairn');
    const skip = new Set(['node_modules', '.git', '.data', '.tools', 'out'].map((n) => path.join(ROOT, n)));
    fs.cpSync(ROOT, copy, { recursive: true, filter: (src) => !skip.has(src) });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    env = cleanEnv({ TEMPORAL_CLI: temporalCliPath() }); // the default state dir, as the demo uses it
    jobs = path.join(tmp, 'jobs.jsonl');
    fs.writeFileSync(
      jobs,
      `${JSON.stringify({ id: 'add', code: 'def f(a, b):\n    return a + b', inputs: ['1, 2', "'x', 'y'"], expected: ['3', "'xy'"] })}\n`,
    );
  });

  test('`cairn setup` and `cairn grade` work there, with the state in the default dir outside it', async () => {
    const stateDir = sandboxStateDir(env);
    expect(stateDir.startsWith(path.dirname(copy))).toBe(false);
    const setup = await cairn(copy, ['setup'], env);
    expect(setup).toMatchObject({ code: 0 });
    expect(setup.out).toContain(`sandbox state dir ${stateDir}; seccomp filter ${stateDir}/seccomp-`);
    const out = path.join(tmp, 'graded.jsonl');
    const r = await cairn(copy, ['grade', '--in', jobs, '--out', out], env);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(new RegExp(`sandbox: ${privilege} mode`));
    expect(r.out).toMatch(/graded 1 jobs: 1 pass, 0 fail, 0 infra_error/);
    const names = fs.readdirSync(stateDir);
    expect(names).toEqual(
      expect.arrayContaining([
        'jobs',
        expect.stringMatching(/^seccomp-[0-9a-f]{16}\.bpf$/),
        expect.stringMatching(/^driver-[0-9a-f]{16}\.pyc$/),
      ]),
    );
    if (asRoot) expect(fs.statSync(stateDir)).toMatchObject({ uid: 0 });
  });

  test('the grader worker starts there (it refused to before) and stops cleanly', async () => {
    const [temporal, tdb] = await Promise.all([startTestEnv(), createTestDb('statedir')]);
    const worker = startCairn(['worker', '--queue', 'grader'], { ...env, TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: tdb.url }, copy);
    try {
      await worker.waitFor(/\[worker\] worker polling cairn-grader/, 90_000);
      expect(worker.output()).toMatch(new RegExp(`\\[worker\\] sandbox: ${privilege} mode`));
      worker.child.kill('SIGTERM');
      expect(await worker.exitWithin(30_000)).toBe(0);
      expect(worker.output()).toMatch(/\[worker\] stopped/);
    } finally {
      await worker.killAll();
      await tdb.drop();
      await temporal.teardown();
    }
  }, 150_000);

  test('two driver versions sharing one state dir each get their own compiled driver', async () => {
    const shared = path.join(tmp, 'shared-state');
    fs.appendFileSync(path.join(copy, 'activities/sandbox/driver.py'), '\n# another version of the driver\n');
    const [a, b] = await Promise.all([
      cairn(copy, ['grade', '--in', jobs, '--out', path.join(tmp, 'a.jsonl'), '--state-dir', shared, '--quiet'], env),
      cairn(ROOT, ['grade', '--in', jobs, '--out', path.join(tmp, 'b.jsonl'), '--state-dir', shared, '--quiet'], env),
    ]);
    expect([a, b]).toMatchObject([{ code: 0 }, { code: 0 }]);
    expect(a.out).toMatch(/1 pass/);
    expect(b.out).toMatch(/1 pass/);
    const names = fs.readdirSync(shared).sort();
    expect(names.filter((n) => /^driver-[0-9a-f]{16}\.pyc$/.test(n))).toHaveLength(2);
    expect(names.filter((n) => /^seccomp-[0-9a-f]{16}\.bpf$/.test(n))).toHaveLength(1); // same generator, same filter
    expect(names.filter((n) => n.includes('.tmp'))).toEqual([]);
  });
});
