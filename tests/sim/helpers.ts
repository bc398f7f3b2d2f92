/**
 * Helpers for the simulator suite: a Python runner (test-only, no sandbox: the code is the
 * simulator's own), prompt renderers that follow the fixed protocol, and an answer parser.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import OpenAI from 'openai';
import { createSimServer, type SimOptions, type SimServer } from '../../scripts/sim';
import { fencedBlocks } from '../../scripts/sim/prompt';

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
    const child = spawn(PYTHON, [path.join(__dirname, 'harness.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`harness exited ${code}: ${Buffer.concat(err).toString()}`));
      resolve(JSON.parse(Buffer.concat(out).toString()) as PyResult[]);
    });
    child.stdin.end(JSON.stringify({ jobs }));
  });
}

export interface Harness {
  sim: SimServer;
  client: OpenAI;
}

/** A simulator on a random port and an OpenAI client without retries (failures must show). */
export async function startSim(opts: SimOptions = {}): Promise<Harness> {
  const sim = await createSimServer({ port: 0, ...opts });
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
export function teacherUser(seed: string, instruction: string, prev?: Previous, after?: { feedback?: string; performance?: string }): string {
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
