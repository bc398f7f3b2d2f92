/** Setup refusals, uid leases, infra errors and the death classification. */
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { blameFor, createSandbox, SandboxInfraError, SandboxSetupError } from '../../activities/sandbox';
import type { SegmentResult } from '../../activities/sandbox/segment';
import { overLimit } from '../../activities/sandbox/segment';
import { cgroupsOf, makeSandbox, uidBaseFor } from './sandbox-helpers';

const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-sbx-setup-'));
  fs.chmodSync(d, 0o755);
  return d;
};

test('uidBase 0 is refused before anything runs', async () => {
  await expect(createSandbox({ stateDir: '/nonexistent/never-created', uidBase: 0 })).rejects.toThrow(/never 0/);
});

test('a state dir the slot uids cannot traverse is refused with the fix', async () => {
  const parent = tmp();
  fs.chmodSync(parent, 0o700);
  try {
    const err = await createSandbox({ stateDir: path.join(parent, 'state'), uidBase: uidBaseFor(4) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxSetupError);
    expect((err as Error).message).toMatch(/not traversable.*chmod o\+x/);
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('slot uids are leased host-wide: a second grader asking for the same uids gets the next free block', async () => {
  const { sb, stateDir } = await makeSandbox(4, { slots: 2 });
  try {
    const base = sb.info.slotUids[0]!;
    const second = await createSandbox({ stateDir, uidBase: base, slots: 2 });
    try {
      expect(second.info.slotUids).toEqual([base + 2, base + 3]);
      expect(second.info.warnings.join(' ')).toMatch(/busy/);
    } finally {
      await second.close();
    }
    await sb.close();
    const again = await createSandbox({ stateDir, uidBase: base, slots: 2 });
    expect(again.info.slotUids).toEqual([base, base + 1]);
    await again.close();
  } finally {
    await sb.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a job dir failure is a SandboxInfraError, and a closed sandbox refuses runs', async () => {
  const { sb, stateDir } = await makeSandbox(4, { slots: 1 });
  try {
    fs.rmSync(path.join(stateDir, 'jobs'), { recursive: true });
    const err = await sb.run({ code: 'def f(): return 1', entry: 'f', inputs: [''], timeLimitMs: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxInfraError);
    expect((err as Error).name).toBe('SandboxInfraError');
    fs.mkdirSync(path.join(stateDir, 'jobs'));
    await sb.close();
    await expect(sb.run({ code: '', entry: 'f', inputs: [''], timeLimitMs: 1000 })).rejects.toThrow(/closed/);
    expect(cgroupsOf()).toEqual([]);
  } finally {
    await sb.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

describe('blameFor: what a sandbox death means for the running input', () => {
  const seg = (over: Partial<SegmentResult>): SegmentResult => ({
    results: [],
    hello: true,
    load: { status: 'ok', error: '' },
    code: null,
    signal: null,
    stderr: '',
    sinceLastLineMs: 5,
    lastTotCpuMs: 0,
    usedCpuMs: 0,
    ...over,
  });
  const ok = { i: 0, outcome: { status: 'ok' as const, wallMs: 1 } };
  test.each<[string, Partial<SegmentResult>, string]>([
    ['OOM kill', { code: 137, stats: { oomKills: 1, pidsMaxHits: 0 } }, 'memory_limit'],
    ['host watchdog', { signal: 'SIGKILL', killedBy: 'watchdog' }, 'timeout'],
    ['channel flood', { signal: 'SIGKILL', killedBy: 'output' }, 'output_limit'],
    ['garbage on the channel', { signal: 'SIGKILL', killedBy: 'protocol' }, 'protocol_violation'],
    ['RLIMIT_CPU', { code: 128 + 24 }, 'timeout'],
    ['segfault', { code: 139 }, 'crash'],
    ['os._exit(3) before any result', { code: 3 }, 'crash'],
    ['exit 0 without a result', { code: 0 }, 'crash'],
  ])('%s', (_name, over, status) => {
    const b = blameFor(seg(over));
    expect(b === 'restart' ? b : b.status).toBe(status);
  });
  test('exit 3 after progress is a restart without blame', () => {
    expect(blameFor(seg({ code: 3, results: [ok] }))).toBe('restart');
  });
});

describe('overLimit: the host checks the measured times itself', () => {
  test('CPU over the limit, wall past the backstop, or the attempt over its budget', () => {
    expect(overLimit(10, 5, 300, 800, 10, 600)).toBeNull();
    expect(overLimit(700, 710, 300, 800, 700, 900)).toMatch(/700 ms of CPU, limit 300 ms/);
    expect(overLimit(10, 900, 300, 800, 10, 600)).toMatch(/900 ms wall, backstop 800 ms/);
    expect(overLimit(10, 5, 300, 800, 650, 600)).toMatch(/budget 600 ms/);
  });
});

test('a grader in another pid namespace leaves ours alone, and no sandbox leaves an exited process for pid 1 to reap', async () => {
  // pid 1 of a fresh pid namespace here is a python that never reaps anything but its own child:
  // an orphan of any sandbox would stay there as a zombie until the namespace ends. Meanwhile a
  // grader of this process holds pre-started sandboxes (with cgroups): seen from that namespace
  // their creator's pid is not alive, and their processes are listed as pid 0 (kill(0) would hit
  // its own process group, which is this jest run).
  const { sb: ours, stateDir: ourState } = await makeSandbox(5, { slots: 1 });
  const before = (await ours.idleSandboxes()).map((w) => w.pid);
  const dir = tmp();
  const inFile = path.join(dir, 'jobs.jsonl');
  const job = (i: number): string => JSON.stringify({ id: i, code: 'def f(x):\n    return x\n', inputs: ['1', '2'], expected: ['1', '2'] });
  // Six passing jobs, one the host's watchdog must kill (signals ignored, a C-level sleep), and
  // one killed for forging result lines: kills go inside out too.
  const stuck = JSON.stringify({
    id: 7,
    code: 'import signal, time\nfor s in (signal.SIGALRM, signal.SIGPROF):\n    signal.signal(s, signal.SIG_IGN)\ndef f(x):\n    for s in (signal.SIGALRM, signal.SIGPROF):\n        signal.signal(s, signal.SIG_IGN)\n    time.sleep(30)\n',
    inputs: ['1'],
    expected: ['1'],
    time_limit_ms: 200,
  });
  const forger = JSON.stringify({
    id: 8,
    code: 'import os\ndef f(x):\n    for fd in range(3, 12):\n        try: os.write(fd, b"garbage\\n")\n        except OSError: pass\n    return x\n',
    inputs: ['1'],
    expected: ['1'],
  });
  fs.writeFileSync(inFile, [...[1, 2, 3, 4, 5, 6].map(job), stuck, forger].join('\n') + '\n');
  const cli = path.resolve(__dirname, '../../scripts/cairn.js');
  const grade = [
    process.execPath,
    cli,
    'grade',
    '--in',
    inFile,
    '--out',
    path.join(dir, 'out.jsonl'),
    '--state-dir',
    path.join(dir, 'state'),
    '--quiet',
  ];
  const pid1 = [
    'import json, os, subprocess, sys, time',
    `r = subprocess.run(${JSON.stringify(grade)})`,
    'time.sleep(0.5)',
    'z = []',
    'for p in os.listdir("/proc"):',
    '    try:',
    '        st = open("/proc/%s/stat" % p).read()',
    '    except OSError:',
    '        continue',
    '    if st.rsplit(")", 1)[1].split()[0] == "Z":',
    '        z.append(st.split(" ", 2)[1])',
    // tsx's esbuild service, a child of the CLI that outlives it once, at exit: not a sandbox's
    'z = [n for n in z if n != "(esbuild)"]',
    'print(json.dumps({"code": r.returncode, "zombies": z}))',
  ].join('\n');
  const r = spawnSync('/usr/bin/unshare', ['--fork', '--pid', '--mount-proc', '/usr/bin/python3', '-c', pid1], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  try {
    const last = r.stdout.trim().split('\n').pop() ?? '';
    expect({ status: r.status, stderr: r.stderr.slice(0, 500) }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(last)).toEqual({ code: 0, zombies: [] });
    const out = fs
      .readFileSync(path.join(dir, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { verdict: string; inputs: Array<{ verdict: string }> });
    expect(out.map((o) => o.verdict)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'fail', 'fail']);
    expect(out.slice(6).map((o) => o.inputs[0]?.verdict)).toEqual(['timeout', 'protocol_violation']);
    // Our pre-started sandbox survived the other grader's start-up sweep, and still grades.
    expect(before).toHaveLength(1);
    expect((await ours.idleSandboxes()).map((w) => w.pid)).toEqual(before);
    const mine = await ours.run({ code: 'def f(x):\n    return x\n', entry: 'f', inputs: ['7'], timeLimitMs: 1000 });
    expect(mine.outcomes[0]).toMatchObject({ status: 'ok', out: '7' });
  } finally {
    await ours.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(ourState, { recursive: true, force: true });
  }
});
