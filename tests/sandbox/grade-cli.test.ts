/** `cairn grade`: the real command on real sandboxes, plus the ordering/retry logic on a fake sandbox. */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { SandboxInfraError } from '../../activities/sandbox';
import type { RunRequest, RunResult, Sandbox } from '../../activities/sandbox';
import { gradeFile, gradeJob, parseJob } from '../../scripts/lib/grade-jobs';
import type { GradeResult } from '../../scripts/lib/grade-jobs';
import { spawnTracked } from '../helpers/tracked-processes';
import { liveProcsOf } from './sandbox-helpers';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-grade-cli-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cairn(
  args: string[],
  opts: { onStderr?: (text: string, kill: (sig: NodeJS.Signals) => void) => void } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(process.execPath, [path.join(ROOT, 'scripts/cairn.js'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(stderr, (sig) => child.kill(sig));
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const write = (name: string, jobs: Array<Record<string, unknown> | string>): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, jobs.map((j) => (typeof j === 'string' ? j : JSON.stringify(j))).join('\n') + '\n');
  return file;
};
const readJsonl = (file: string): GradeResult[] =>
  fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as GradeResult);

const ADD = 'def f(a, b):\n    return a + b';

test('grades a mixed file: verdicts per input and per job, input order, meta kept, summary printed', async () => {
  const inFile = write('mixed.jsonl', [
    { id: 'add', code: ADD, inputs: ['1, 2', "'x', 'y'", '[1], [2]'], expected: ['3', "'xy'", '[1, 2]'], meta: { source: 'test' } },
    { id: 2, code: 'def f(a, b):\n    return a - b', inputs: ['5, 2', '1, 2'], expected: ['3', '3'] },
    { id: 'loop', code: 'def f(x):\n    while True: pass', inputs: ['1', '2'], expected: ['1', '2'], time_limit_ms: 200 },
    '',
    {
      id: 'crash',
      code: 'import os\ndef f(x):\n    if x: os._exit(9)\n    return {"b": 1, "a": {2, 1}}',
      inputs: ['0', '1', '0'],
      expected: ["{'a': {1, 2}, 'b': 1}", 'None', "{'a': {1, 2}, 'b': 1}"],
    },
    {
      id: 'run-only',
      code: 'class Solution:\n    def twoSum(self, n, t):\n        return sorted(n)',
      entry: 'twoSum',
      inputs: ['[3, 1], 4', '1, 2'],
    },
  ]);
  const outFile = path.join(dir, 'out', 'mixed.out.jsonl');
  const r = await cairn(['grade', '--in', inFile, '--out', outFile, '--concurrency', '2', '--time-limit-ms', '1000']);
  expect(r.stderr).toMatch(/sandbox: (root|user) mode/);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/graded 5 jobs: 1 pass, 4 fail, 0 infra_error; 12 tests in [\d.]+ s = \d+ tests\/s/);
  expect(fs.existsSync(`${outFile}.partial`)).toBe(false);
  const res = readJsonl(outFile);
  expect(res.map((x) => x.id)).toEqual(['add', 2, 'loop', 'crash', 'run-only']);
  expect(res[0]).toMatchObject({ verdict: 'pass', checked: true, passed: 3, total: 3, sandboxes: 1, meta: { source: 'test' } });
  expect(res[0]!.inputs.map((i) => i.out)).toEqual(['3', "'xy'", '[1, 2]']);
  for (const i of res[0]!.inputs)
    expect(i).toEqual({ verdict: 'ok', out: expect.any(String), cpu_ms: expect.any(Number), wall_ms: expect.any(Number) });
  expect(res[1]).toMatchObject({ verdict: 'fail', passed: 1, total: 2 });
  expect(res[1]!.inputs.map((i) => i.verdict)).toEqual(['ok', 'wrong']);
  expect(res[2]!.inputs.map((i) => i.verdict)).toEqual(['timeout', 'timeout']);
  expect(res[3]).toMatchObject({ verdict: 'fail', passed: 2, sandboxes: 2 });
  expect(res[3]!.inputs.map((i) => i.verdict)).toEqual(['ok', 'crash', 'ok']);
  expect(res[4]).toMatchObject({ verdict: 'fail', checked: false, passed: 1, total: 2 });
  expect(res[4]!.inputs.map((i) => [i.verdict, i.out ?? i.error])).toEqual([
    ['ok', '[1, 3]'],
    ['error', "TypeError: 'int' object is not iterable"],
  ]);
});

test('a bad line stops everything before a sandbox starts, naming file:line; the old output is untouched', async () => {
  const inFile = write('bad.jsonl', [
    { id: 1, code: ADD, inputs: ['1, 2'], expected: ['3'] },
    '',
    { id: 2, code: ADD, inputs: ['1, 2'], expected: ['3', '4'] },
  ]);
  const outFile = path.join(dir, 'bad.out.jsonl');
  fs.writeFileSync(outFile, 'OLD\n');
  const r = await cairn(['grade', '--in', inFile, '--out', outFile]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${inFile}:3: "expected" has 2 values for 1 inputs (nothing was graded; fix the line or pass --skip-bad)`);
  expect(r.stderr).not.toMatch(/sandbox:/);
  expect(fs.readFileSync(outFile, 'utf8')).toBe('OLD\n');
  expect(fs.existsSync(`${outFile}.partial`)).toBe(false);
});

test('--skip-bad grades the valid lines and reports each skipped one', async () => {
  const inFile = write('skip.jsonl', [
    '{"id": 1, "code": "def f(a, b):\\n    return a + b", "inputs": ["1, 2"], "expected": ["3"]}',
    '{not json',
    { id: 3, code: ADD, inputs: ['2, 2'], expected: ['4'], expect: ['typo'] },
    { id: 4, code: ADD, inputs: ['2, 3'], expected: ['5'] },
  ]);
  const outFile = path.join(dir, 'skip.out.jsonl');
  const r = await cairn(['grade', '--in', inFile, '--out', outFile, '--skip-bad', '--quiet']);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`skipped ${inFile}:2: not valid JSON`);
  expect(r.stderr).toContain(`skipped ${inFile}:3: unknown field "expect"`);
  expect(r.stdout).toMatch(/graded 2 jobs: 2 pass, 0 fail, 0 infra_error, 2 bad lines skipped/);
  expect(readJsonl(outFile).map((x) => [x.id, x.verdict])).toEqual([
    [1, 'pass'],
    [4, 'pass'],
  ]);
});

test('SIGINT mid-grade: no output, no partial file, no sandbox left', async () => {
  const inFile = write('slow.jsonl', [{ id: 1, code: 'import time\ndef f():\n    time.sleep(30)', inputs: [''], time_limit_ms: 20_000 }]);
  const outFile = path.join(dir, 'slow.out.jsonl');
  let slotUids: number[] = [];
  let sent = false;
  const r = await cairn(['grade', '--in', inFile, '--out', outFile, '--concurrency', '1'], {
    onStderr: (text, kill) => {
      // root mode names the slot uids; user mode runs as ourselves (cleanup is checked by pid namespace there)
      const m = /sandbox: (?:root mode: .*own uid \(([\d, ]+)\)|user mode)/.exec(text);
      if (m && !sent) {
        sent = true;
        slotUids = m[1] ? m[1].split(', ').map(Number) : [];
        setTimeout(() => kill('SIGINT'), 300);
      }
    },
  });
  expect(sent).toBe(true);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/interrupted by SIGINT/);
  expect(fs.existsSync(outFile)).toBe(false);
  expect(fs.existsSync(`${outFile}.partial`)).toBe(false);
  expect(liveProcsOf(slotUids)).toEqual([]);
});

describe('ordering, bounded window and retries (fake sandbox)', () => {
  class FakeSandbox implements Sandbox {
    inFlight = 0;
    maxInFlight = 0;
    calls = 0;
    constructor(private readonly failFirst = 0) {}
    async run(req: RunRequest): Promise<RunResult> {
      this.calls++;
      if (this.calls <= this.failFirst) throw new SandboxInfraError('bwrap: cannot fork');
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      this.inFlight--;
      return { outcomes: req.inputs.map((i) => ({ status: 'ok' as const, out: i, wallMs: 1, cpuMs: 0.5 })), sandboxes: 1 };
    }
    async close(): Promise<void> {}
  }

  test('2000 jobs come out in input order with at most 2 x concurrency in flight', async () => {
    const inFile = write(
      'many.jsonl',
      Array.from({ length: 2000 }, (_, i) => ({ id: i, code: '', inputs: [String(i)], expected: [i % 3 ? String(i) : 'x'] })),
    );
    const outFile = path.join(dir, 'many.out.jsonl');
    const sb = new FakeSandbox();
    const s = await gradeFile({ inFile, outFile, sandbox: sb, concurrency: 3 });
    expect(s).toMatchObject({ jobs: 2000, pass: 1333, fail: 667, infraError: 0, tests: 2000 });
    expect(sb.maxInFlight).toBeLessThanOrEqual(6);
    expect(readJsonl(outFile).map((r) => r.id)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  test('an infra error is retried, then reported as infra_error (never as a fail)', async () => {
    const job = { id: 'j', code: '', inputs: ['1'], expected: ['1'] };
    await expect(gradeJob(new FakeSandbox(1), job, { timeLimitMs: 1000, infraRetries: 1 })).resolves.toMatchObject({ verdict: 'pass' });
    await expect(gradeJob(new FakeSandbox(5), job, { timeLimitMs: 1000, infraRetries: 1 })).resolves.toEqual({
      id: 'j',
      verdict: 'infra_error',
      checked: true,
      passed: 0,
      total: 1,
      inputs: [],
      sandboxes: 0,
      error: 'bwrap: cannot fork',
    });
  });

  test.each<[string, string]>([
    ['[1]', 'a job must be a JSON object'],
    ['{"code": "", "inputs": []}', '"id" must be a string or a number'],
    ['{"id": 1, "code": "", "inputs": [1]}', '"inputs" must be an array of strings'],
    ['{"id": 1, "code": "", "inputs": [], "entry": "f()"}', '"entry" must be a Python identifier'],
    ['{"id": 1, "code": "", "inputs": ["1"], "time_limit_ms": [1, 2]}', '"time_limit_ms" must be'],
    ['{"id": 1, "code": "", "inputs": [], "memory_mb": 4}', '"memory_mb" must be'],
  ])('parseJob(%s) is refused', (line, why) => {
    expect(parseJob(line)).toEqual(expect.stringContaining(why));
  });
});
