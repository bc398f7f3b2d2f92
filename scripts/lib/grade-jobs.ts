/**
 * `cairn grade`: grades a JSONL file of jobs in the sandbox, without Temporal or Postgres
 * (docs/grader.md has the formats). Two streaming passes keep memory constant in the file size:
 * the first validates every line (a bad line stops everything before any code runs, unless
 * skipBad), the second grades with a bounded window and writes results in input order to
 * OUT.partial, renamed to OUT only when every job has a result.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { AnswersProcess, compareMany } from '../../activities/environments/answers-py';
import type { InputVerdict, Sandbox } from '../../activities/sandbox';

/** One line of the input file. */
export interface GradeJob {
  /** Caller's id, copied to the result (string or number). */
  id: string | number;
  /** Python source defining `entry`. */
  code: string;
  /** Function to call (default 'f'; a `class Solution` with that method works too). */
  entry?: string;
  /** Python-literal argument lists, one per test: "1, 2" calls f(1, 2). */
  inputs: string[];
  /** Canonical expected return values, one per input; without it the outputs are only reported. */
  expected?: string[];
  /** Per-input CPU-time limit in ms (one number, or one per input). */
  time_limit_ms?: number | number[];
  /** Memory limit of the sandbox, MiB. */
  memory_mb?: number;
  /** Anything; copied verbatim to the result. */
  meta?: unknown;
}

export interface InputResult {
  verdict: InputVerdict;
  /** Canonical return value (when the input ran to completion). */
  out?: string;
  error?: string;
  cpu_ms: number | null;
  wall_ms: number;
}

/** One line of the output file. */
export interface GradeResult {
  id: string | number;
  /** pass: every input ok (with expected: every output equal); fail: otherwise; infra_error: the host failed. */
  verdict: 'pass' | 'fail' | 'infra_error';
  /** true when the job had `expected` (verdicts compare outputs), false when only run. */
  checked: boolean;
  passed: number;
  total: number;
  inputs: InputResult[];
  /** Sandboxes started (>1 when the code killed one and the rest resumed in a new one). */
  sandboxes: number;
  /** Why the job is infra_error, or the protocol violation that made it fail. */
  error?: string;
  meta?: unknown;
}

export interface GradeFileOptions {
  inFile: string;
  outFile: string;
  sandbox: Sandbox;
  /** Jobs graded at once (default 2; the sandbox's slot count is the real limit). */
  concurrency?: number;
  /** Default per-input limit, ms (default 2000). */
  timeLimitMs?: number;
  /** Default memory per sandbox, MiB (default: the sandbox's). */
  memoryMb?: number;
  /** Skip invalid lines (reported) instead of refusing the file. */
  skipBad?: boolean;
  /** Extra tries for a job whose sandbox failed for a host reason (default 2). */
  infraRetries?: number;
  /** Called with each skipped line's "file:line: reason". */
  onSkip?: (msg: string) => void;
  /** Aborts grading; the partial output is removed. */
  signal?: AbortSignal;
  /** Result of an earlier validateFile on the same file (skips the first pass). */
  validated?: { jobs: number; bad: Set<number> };
}

export interface GradeSummary {
  jobs: number;
  pass: number;
  fail: number;
  infraError: number;
  skipped: number;
  tests: number;
  /** Grading time (after validation), ms. */
  ms: number;
  testsPerSec: number;
  outFile: string;
}

const KEYS = new Set(['id', 'code', 'entry', 'inputs', 'expected', 'time_limit_ms', 'memory_mb', 'meta']);
const MAX_LIMIT_MS = 60_000;

/** A job line that failed validation. */
export class BadJobError extends Error {
  override name = 'BadJobError';
}

/** Parses and checks one line; returns the job or the reason it is invalid. */
export function parseJob(line: string): GradeJob | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'a job must be a JSON object';
  const j = v as Record<string, unknown>;
  const unknown = Object.keys(j).filter((k) => !KEYS.has(k));
  if (unknown.length)
    return `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (allowed: ${[...KEYS].join(', ')}; put your own data in "meta")`;
  if (!(typeof j.id === 'string' || (typeof j.id === 'number' && Number.isFinite(j.id)))) return '"id" must be a string or a number';
  if (typeof j.code !== 'string') return '"code" must be a string of Python source';
  if (j.entry !== undefined && !(typeof j.entry === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(j.entry)))
    return '"entry" must be a Python identifier';
  if (!Array.isArray(j.inputs) || !j.inputs.every((s) => typeof s === 'string'))
    return '"inputs" must be an array of strings (Python argument lists, e.g. "1, [2, 3]")';
  if (j.expected !== undefined) {
    if (!Array.isArray(j.expected) || !j.expected.every((s) => typeof s === 'string'))
      return '"expected" must be an array of strings (canonical Python literals)';
    if (j.expected.length !== j.inputs.length) return `"expected" has ${j.expected.length} values for ${j.inputs.length} inputs`;
  }
  const okLimit = (t: unknown): boolean => typeof t === 'number' && Number.isFinite(t) && t > 0 && t <= MAX_LIMIT_MS;
  if (j.time_limit_ms !== undefined) {
    const t = j.time_limit_ms;
    if (Array.isArray(t) ? t.length !== j.inputs.length || !t.every(okLimit) : !okLimit(t)) {
      return `"time_limit_ms" must be a number in (0, ${MAX_LIMIT_MS}] or one such number per input`;
    }
  }
  if (j.memory_mb !== undefined && !(typeof j.memory_mb === 'number' && j.memory_mb >= 16 && j.memory_mb <= 65536))
    return '"memory_mb" must be a number in [16, 65536]';
  return j as unknown as GradeJob;
}

/** Non-blank lines of a file with their 1-based numbers, read as a stream. */
async function* lines(file: string): AsyncGenerator<[number, string]> {
  const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      if (line.trim()) yield [n, line];
    }
  } finally {
    rl.close();
  }
}

/** Pass 1: every line valid (or, with skipBad, the set of lines to skip). Throws BadJobError with file:line. */
export async function validateFile(
  file: string,
  skipBad: boolean,
  onSkip?: (msg: string) => void,
): Promise<{ jobs: number; bad: Set<number> }> {
  const bad = new Set<number>();
  let jobs = 0;
  for await (const [n, line] of lines(file)) {
    const job = parseJob(line);
    if (typeof job !== 'string') {
      jobs++;
      continue;
    }
    const msg = `${file}:${n}: ${job}`;
    if (!skipBad) throw new BadJobError(`${msg} (nothing was graded; fix the line or pass --skip-bad)`);
    bad.add(n);
    onSkip?.(msg);
  }
  return { jobs, bad };
}

/** Grades one job; host failures are retried, then reported as infra_error (never as a fail). */
export async function gradeJob(
  sb: Sandbox,
  job: GradeJob,
  o: { timeLimitMs: number; memoryMb?: number; infraRetries: number; signal?: AbortSignal; answers?: AnswersProcess },
): Promise<GradeResult> {
  const base = {
    id: job.id,
    checked: job.expected !== undefined,
    total: job.inputs.length,
    ...(job.meta !== undefined ? { meta: job.meta } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await sb.run(
        {
          code: job.code,
          entry: job.entry ?? 'f',
          inputs: job.inputs,
          timeLimitMs: job.time_limit_ms ?? o.timeLimitMs,
          memoryMb: job.memory_mb ?? o.memoryMb,
        },
        o.signal,
      );
      // Cairn's comparison (answers.py, the code the exported trainer reward runs too).
      const cases = job.expected ? [{ outcomes: res.outcomes, expected: job.expected }] : [];
      const verdicts = job.expected
        ? (await (o.answers ? o.answers.compare(cases) : compareMany(cases)))[0]!.verdicts
        : res.outcomes.map((x) => x.status);
      const passed = verdicts.filter((v) => v === 'ok').length;
      return {
        id: job.id,
        verdict: passed === job.inputs.length && passed > 0 ? 'pass' : 'fail',
        checked: base.checked,
        passed,
        total: base.total,
        inputs: res.outcomes.map((x, i) => ({
          verdict: verdicts[i]!,
          ...(x.out !== undefined ? { out: x.out } : {}),
          ...(x.error ? { error: x.error } : {}),
          cpu_ms: x.cpuMs === undefined ? null : round(x.cpuMs),
          wall_ms: round(x.wallMs),
        })),
        sandboxes: res.sandboxes,
        ...(res.protocolViolation ? { error: res.protocolViolation } : {}),
        ...(base.meta !== undefined ? { meta: base.meta } : {}),
      };
    } catch (err) {
      if (o.signal?.aborted) throw err;
      const infra = err instanceof Error && err.name === 'SandboxInfraError';
      if (!infra) throw err;
      if (attempt < o.infraRetries) {
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
        continue;
      }
      return { ...base, verdict: 'infra_error', passed: 0, inputs: [], sandboxes: 0, error: (err as Error).message };
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Validates, then grades the whole file. On any failure OUT is untouched and OUT.partial removed. */
export async function gradeFile(o: GradeFileOptions): Promise<GradeSummary> {
  const concurrency = o.concurrency ?? 2;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  const { jobs, bad } = o.validated ?? (await validateFile(o.inFile, !!o.skipBad, o.onSkip));
  fs.mkdirSync(path.dirname(path.resolve(o.outFile)), { recursive: true });
  const partial = `${o.outFile}.partial`;
  const out = await fs.promises.open(partial, 'w');
  const sum: GradeSummary = {
    jobs,
    pass: 0,
    fail: 0,
    infraError: 0,
    skipped: bad.size,
    tests: 0,
    ms: 0,
    testsPerSec: 0,
    outFile: path.resolve(o.outFile),
  };
  const t0 = Date.now();
  // Results leave in input order: a window of at most 2 x concurrency jobs in flight or waiting
  // for an earlier one, so memory stays bounded whatever the file size.
  const window: Array<Promise<GradeResult>> = [];
  const flush = async (): Promise<void> => {
    const r = await window.shift()!;
    if (r.verdict === 'pass') sum.pass++;
    else if (r.verdict === 'fail') sum.fail++;
    else sum.infraError++;
    sum.tests += r.total;
    await out.write(JSON.stringify(r) + '\n');
  };
  const answers = new AnswersProcess();
  const opts = { timeLimitMs: o.timeLimitMs ?? 2000, memoryMb: o.memoryMb, infraRetries: o.infraRetries ?? 2, signal: o.signal, answers };
  let ok = false;
  try {
    for await (const [n, line] of lines(o.inFile)) {
      if (bad.has(n)) continue;
      const job = parseJob(line);
      if (typeof job === 'string') throw new BadJobError(`${o.inFile}:${n}: ${job} (the file changed while grading)`);
      const p = gradeJob(o.sandbox, job, opts);
      p.catch(() => undefined); // awaited in order by flush; avoid an unhandled rejection meanwhile
      window.push(p);
      if (window.length >= 2 * concurrency) await flush();
    }
    while (window.length) await flush();
    ok = true;
  } finally {
    // Settle everything still running before deciding the file's fate.
    await Promise.allSettled(window);
    await answers.close();
    await out.close();
    if (ok) fs.renameSync(partial, o.outFile);
    else fs.rmSync(partial, { force: true });
  }
  sum.ms = Date.now() - t0;
  sum.testsPerSec = sum.ms > 0 ? (sum.tests * 1000) / sum.ms : 0;
  return sum;
}
