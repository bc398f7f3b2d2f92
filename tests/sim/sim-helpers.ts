/**
 * Helpers for the simulator suite: a Python runner (test-only, no sandbox: the code is the
 * simulator's own), prompt renderers that follow the fixed protocol, and an answer parser.
 */
import path from 'node:path';
import OpenAI from 'openai';
import { createSimServer, type SimOptions, type SimServer } from '../../scripts/sim';
import { environment } from '../../activities/environments';
import type { ExecutedProblem, ProblemText } from '../../activities/environments/environment';
import { fencedBlocks } from '../../scripts/sim/prompt';
import { spawnTracked, tracked } from '../helpers/tracked-processes';

export const PYTHON = '/usr/bin/python3';

export interface PyJob {
  code: string;
  inputs: string[];
  timeout?: number;
  /** With expected outputs the runner stops at the first mismatch and reports `pass`. */
  expected?: string[];
  /** The function to call (default `f`). */
  entry?: string;
  /** Outputs in the canonical form of Cairn's sandbox driver instead of repr. */
  canon?: boolean;
}

export interface PyOutcome {
  ok: boolean;
  out?: string;
  error?: string;
}

export interface PyResult {
  status: 'ok' | 'syntax' | 'banned' | 'nodef';
  outcomes: PyOutcome[];
  pass?: boolean;
  error?: string;
}

/** Runs jobs in one fresh python process (one process = one address space, see determinism). */
export function runPython(jobs: PyJob[]): Promise<PyResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(PYTHON, [path.join(__dirname, 'harness.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`harness exited ${code}: ${Buffer.concat(err).toString()}`));
      resolve(JSON.parse(Buffer.concat(out).toString()) as PyResult[]);
    });
    child.stdin?.end(JSON.stringify({ jobs }));
  });
}

export interface Harness {
  sim: SimServer;
  client: OpenAI;
}

/** A simulator on a random port and an OpenAI client without retries (failures must show). */
export async function startSim(opts: SimOptions = {}): Promise<Harness> {
  const sim = tracked('LLM simulator', await createSimServer({ port: 0, ...opts }), 'close');
  const client = new OpenAI({ baseURL: sim.url, apiKey: opts.apiKey ?? 'unused', maxRetries: 0, timeout: 20_000 });
  return { sim, client };
}

const fence = (info: string, body: string): string => '```' + info + '\n' + body + '\n```';

export interface Previous {
  code: string | null;
  inputs: string[];
  outputs: string[] | null;
  message: string | null;
}

/** The teacher's user message, as Cairn renders it (headings and fences of the protocol). */
export function teacherUser(
  seed: string,
  instruction: string,
  prev?: Previous,
  after?: { feedback?: string; performance?: string },
): string {
  const parts = ['# Environment: induction', 'Write a function f built on the seed.', '## Seed', fence('seed', seed)];
  if (prev) {
    parts.push('## Previous problem');
    if (prev.code !== null) parts.push(fence('python', prev.code));
    prev.inputs.forEach((inp, i) => {
      parts.push(fence('input', inp));
      const o = prev.outputs?.[i];
      if (o !== undefined) parts.push(fence('output', o));
    });
    if (prev.message !== null) parts.push(fence('message', prev.message));
    if (after?.feedback) parts.push('## Feedback', after.feedback);
    if (after?.performance) parts.push('## Student performance', after.performance);
  }
  parts.push('## Instruction', instruction);
  parts.push('## Output format', 'One ```python block defining `f`, exactly 5 ```input blocks, one ```message block.');
  return parts.join('\n\n');
}

export function studentUser(message: string, pairs: Array<[string, string]>): string {
  return [
    '# Environment: induction',
    'Write f.',
    '## Message',
    message,
    '## Examples',
    pairs.map(([i, o]) => `${fence('input', i)}\n${fence('output', o)}`).join('\n\n'),
    '## Answer format',
    'One ```python block defining `f`.',
  ].join('\n\n');
}

export const chat = (user: string): Array<{ role: 'system' | 'user'; content: string }> => [
  { role: 'system', content: 'You are helpful.' },
  { role: 'user', content: user },
];

export interface ParsedProblem {
  code: string | null;
  inputs: string[];
  message: string | null;
}

/** Reads a teacher answer (reasoning in <think> tags is ignored, as Cairn must). */
export function parseProblem(content: string): ParsedProblem {
  const blocks = fencedBlocks(content.replace(/<think>[\s\S]*?<\/think>/g, ''));
  return {
    code: blocks.find((b) => b.info === 'python')?.body ?? null,
    inputs: blocks.filter((b) => b.info === 'input').map((b) => b.body.trim()),
    message: blocks.find((b) => b.info === 'message')?.body.trim() ?? null,
  };
}

/** The student's code: the last python block outside reasoning. */
export function studentCode(content: string): string {
  const blocks = fencedBlocks(content.replace(/<think>[\s\S]*?<\/think>/g, '')).filter((b) => b.info === 'python');
  return blocks[blocks.length - 1]?.body ?? '';
}

export const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** The environments where the student sees the code. */
export type SimGameEnv = 'abduction' | 'deduction' | 'fuzzing';

export type Validated = { ok: true; problem: ExecutedProblem } | { ok: false; reason: string };

/** Cairn's validation in the harness: runs, determinism over two processes, then checkOutputs. */
export async function validateAll(env: SimGameEnv, ps: ProblemText[]): Promise<Validated[]> {
  const e = environment(env);
  const jobs = ps.map((p) => {
    const v = e.validation(p);
    return { code: v.code, entry: v.entry, inputs: v.inputs, canon: true, timeout: 0.3 };
  });
  const [a, b] = await Promise.all([runPython(jobs), runPython(jobs)]);
  return ps.map((p, i): Validated => {
    const ra = a[i];
    if (ra?.status !== 'ok') return { ok: false, reason: `status ${ra?.status}` };
    const bad = ra.outcomes.find((o) => !o.ok);
    if (bad) return { ok: false, reason: bad.error ?? 'error' };
    if (JSON.stringify(ra.outcomes) !== JSON.stringify(b[i]?.outcomes)) return { ok: false, reason: 'not deterministic' };
    const problem = { ...p, outputs: ra.outcomes.map((o) => o.out as string) };
    const reason = e.checkOutputs(problem);
    return reason ? { ok: false, reason } : { ok: true, problem };
  });
}

export async function validate(env: SimGameEnv, p: ProblemText): Promise<Validated> {
  return (await validateAll(env, [p]))[0] as Validated;
}

/** Rewards of parsed answers (null = did not parse) through Cairn's grade jobs, many problems in one run. */
export async function rewardsAll(
  env: SimGameEnv,
  items: Array<{ problem: ExecutedProblem; answers: Array<string | null> }>,
): Promise<number[][]> {
  const e = environment(env);
  const jobs = items.flatMap(({ problem, answers }) =>
    answers.map((a) => {
      const j = a === null ? null : e.gradeJob(problem, a);
      return j
        ? { code: j.code, entry: j.entry, inputs: j.inputs, expected: j.expected, canon: true, timeout: 0.3 }
        : { code: 'x = 1', inputs: [], expected: [] };
    }),
  );
  const res = await runPython(jobs);
  let k = 0;
  return items.map(({ answers }) =>
    answers.map((a) => {
      const r = res[k++];
      return a !== null && r?.pass === true ? 1 : 0;
    }),
  );
}

export async function rewards(env: SimGameEnv, problem: ExecutedProblem, answers: Array<string | null>): Promise<number[]> {
  return (await rewardsAll(env, [{ problem, answers }]))[0] as number[];
}
