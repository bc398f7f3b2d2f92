/**
 * Cairn's answer parser and reward comparison run from one Python source, answers.py (beside this
 * file), which `cairn export` also embeds in cairn_reward.py: the reward a trainer computes is the
 * same code as the grade Cairn stored, not a port of it. Each call runs answers.py once in Debian's
 * /usr/bin/python3 (the sandbox's interpreter, so every worker host already has it), batched: one
 * process per problem's completions or per problem's attempts, next to an LLM call or M sandbox runs.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { InputOutcome, InputVerdict } from '../sandbox/contract';
import { SYSTEM_PYTHON } from '../sandbox/seccomp';
import type { ParseResult } from './environment';

export const ANSWERS_PY = path.join(__dirname, 'answers.py');
// -I -S -B: no user site, no site-packages, no __pycache__ beside the source.
const ARGS = ['-I', '-S', '-B', '-c', 'import sys; sys.path.insert(0, sys.argv[1]); import answers; answers._serve(sys.stdin, sys.stdout)'];

export interface Comparison {
  verdicts: InputVerdict[];
  passed: number;
  pass: boolean;
}

type Request = { op: 'parse'; env: string; texts: string[] } | { op: 'compare'; cases: { outcomes: InputOutcome[]; expected: string[] }[] };

function failure(code: number | null, signal: string | null, stderr: string): Error {
  return new Error(
    `answers.py (${SYSTEM_PYTHON} ${ANSWERS_PY}) failed (${signal ?? `exit ${code}`}): ${stderr.trim().slice(-2000) || 'no error text'}. ` +
      `It needs Debian's python3 (apt-get install python3; npm run setup installs it).`,
  );
}

function request(req: Request): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const p = spawn(SYSTEM_PYTHON, [...ARGS, path.dirname(ANSWERS_PY)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.stdin.on('error', () => undefined); // a dead child shows up in 'close' below
    p.on('error', reject);
    p.on('close', (code, signal) => {
      if (code !== 0) return reject(failure(code, signal, Buffer.concat(err).toString('utf8')));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')));
      } catch (e) {
        reject(new Error(`answers.py answered with bad JSON: ${String(e)}`));
      }
    });
    p.stdin.end(JSON.stringify(req));
  });
}

function requestSync(req: Request): unknown {
  const r = spawnSync(SYSTEM_PYTHON, [...ARGS, path.dirname(ANSWERS_PY)], {
    input: JSON.stringify(req),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw failure(r.status, r.signal, r.stderr);
  return JSON.parse(r.stdout);
}

const asParse = (rows: unknown): ParseResult<string>[] =>
  (rows as [boolean, string][]).map(([ok, v]) => (ok ? { ok: true, value: v } : { ok: false, reason: v }));

function checkLengths(cases: { outcomes: InputOutcome[]; expected: string[] }[]): void {
  for (const c of cases) {
    if (c.outcomes.length !== c.expected.length) {
      throw new RangeError(`compareOutcomes: ${c.outcomes.length} outcomes for ${c.expected.length} expected values`);
    }
  }
}

/** The student's answers in `env` (code for induction, a Python literal otherwise), one per text. */
export async function parseAnswers(env: string, texts: string[]): Promise<ParseResult<string>[]> {
  return texts.length === 0 ? [] : asParse(await request({ op: 'parse', env, texts }));
}

/** parseAnswers for one text, synchronously (tests, the simulator's checks). */
export function parseAnswerSync(env: string, text: string): ParseResult<string> {
  return asParse(requestSync({ op: 'parse', env, texts: [text] }))[0] as ParseResult<string>;
}

/** Host-side grading of many attempts: per input 'ok' only when it ran and matches exactly; see answers.py compare_outcomes. */
export async function compareMany(cases: { outcomes: InputOutcome[]; expected: string[] }[]): Promise<Comparison[]> {
  checkLengths(cases);
  return cases.length === 0 ? [] : ((await request({ op: 'compare', cases })) as Comparison[]);
}

/** compareMany for one attempt, synchronously. */
export function compareOutcomes(outcomes: InputOutcome[], expected: string[]): Comparison {
  checkLengths([{ outcomes, expected }]);
  return (requestSync({ op: 'compare', cases: [{ outcomes, expected }] }) as Comparison[])[0] as Comparison;
}

/**
 * A long-lived answers.py for callers that compare many small jobs one at a time (`cairn grade`):
 * one process, one JSON line per request, answers in order. close() ends it; so does its stdin's EOF.
 */
export class AnswersProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private dead: Error | null = null;
  private stderr = '';

  constructor() {
    this.child = spawn(SYSTEM_PYTHON, [...ARGS, path.dirname(ANSWERS_PY), '--lines'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (b: Buffer) => (this.stderr = (this.stderr + b.toString('utf8')).slice(-4000)));
    this.child.stdin.on('error', () => undefined);
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      const msg = JSON.parse(line) as { ok?: unknown; error?: string };
      if (w) void (msg.error === undefined ? w.resolve(msg.ok) : w.reject(new Error(`answers.py: ${msg.error}`)));
    });
    const die = (e: Error) => {
      this.dead ??= e;
      for (const w of this.waiting.splice(0)) w.reject(this.dead);
    };
    this.child.on('error', die);
    this.child.on('close', (code, signal) => die(failure(code, signal, this.stderr)));
  }

  private ask(req: Request): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(JSON.stringify(req) + '\n');
    });
  }

  async compare(cases: { outcomes: InputOutcome[]; expected: string[] }[]): Promise<Comparison[]> {
    checkLengths(cases);
    return cases.length === 0 ? [] : ((await this.ask({ op: 'compare', cases })) as Comparison[]);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('close', () => resolve());
      this.child.stdin.end();
    });
  }
}
