/**
 * Simulator settings: defaults, validation, and parsing from CLI flags or admin JSON.
 *
 * | setting                 | default | meaning |
 * |-------------------------|---------|---------|
 * | seed                    | 0       | seeds both answer content and the fault stream |
 * | skill                   | 0.55    | student skill in [0, 1]; P(correct) = sigmoid(sharpness * (skill - d)) |
 * | sharpness               | 10      | slope `a` of that sigmoid |
 * | teacherStep             | 0.15    | how far d moves when the instruction says harder / easier (plus noise) |
 * | teacherLatencyMs        | 0       | mean teacher latency (0.5 + 0.5 * Exp(1) jitter, from the fault stream) |
 * | studentLatencyMs        | 0       | mean student latency |
 * | rate429                 | 0       | probability a request gets 429 with `Retry-After` |
 * | retryAfterS             | 1       | the `Retry-After` value, seconds |
 * | rate5xx                 | 0       | probability of a 500/502/503 |
 * | resetRate               | 0       | probability the socket is destroyed without an answer |
 * | malformedRate           | 0.1     | probability the teacher writes an invalid problem |
 * | feedbackMalformedFactor | 0.3     | malformedRate multiplier when the prompt has a `## Feedback` section |
 * | lazyInputsRate          | 0.25    | probability the teacher writes random inputs only (weak tests); 0.05 when asked for stronger / diverse tests |
 * | nSupport                | true    | false: `n > 1` is a 400 error, like servers without `n` |
 * | nLimit                  | 0       | `n` above this is a 400 naming the limit, like llama.cpp's slot count (0 = none) |
 * | nCap                    | 0       | answers at most this many choices whatever `n` asks, silently (0 = none) |
 * | nullContentRate         | 0       | probability a choice comes back with `content: null` (drawn per arrival, so a retry may get it) |
 * | contextLimitChars       | 0       | prompts longer than this (characters) get a 400 `context_length_exceeded` (0 = none) |
 * | maxConcurrent           | 0       | more requests in flight than this get 429 (0 = unlimited) |
 * | reasoningStyle          | none    | 'none', 'think_tags' (`<think>...</think>` before the answer) or 'reasoning_content' (a separate field) |
 * | batchDelayMs            | 1000    | how long a batch (`POST /v1/batches`) stays in_progress before its output file is written |
 * | batchMaxRequests        | 50000   | a batch whose file has more lines than this fails validation (OpenAI's limit) |
 * | apiKey                  | (none)  | when set, requests need `Authorization: Bearer <apiKey>` (else 401) |
 *
 * Environments: the prompt's `# Environment:` line picks induction (teacher.ts, student.ts) or
 * abduction, deduction, fuzzing (envTeacher.ts, envStudent.ts; python3 is needed to work out
 * values). malformedRate applies to every environment with its own fault kinds, and the student's
 * difficulty is offset per environment (envs.ts ENV_OFFSET: deduction -0.15, abduction +0.05,
 * fuzzing +0.1): P(correct) = sigmoid(sharpness * (skill - d - offset)).
 */

export type ReasoningStyle = 'none' | 'think_tags' | 'reasoning_content';

export interface SimSettings {
  seed: number;
  skill: number;
  sharpness: number;
  teacherStep: number;
  teacherLatencyMs: number;
  studentLatencyMs: number;
  rate429: number;
  retryAfterS: number;
  rate5xx: number;
  resetRate: number;
  malformedRate: number;
  feedbackMalformedFactor: number;
  lazyInputsRate: number;
  nSupport: boolean;
  nLimit: number;
  nCap: number;
  nullContentRate: number;
  contextLimitChars: number;
  maxConcurrent: number;
  reasoningStyle: ReasoningStyle;
  batchDelayMs: number;
  batchMaxRequests: number;
  apiKey?: string;
}

export const DEFAULT_SIM_SETTINGS: Readonly<SimSettings> = Object.freeze({
  seed: 0,
  skill: 0.55,
  sharpness: 10,
  teacherStep: 0.15,
  teacherLatencyMs: 0,
  studentLatencyMs: 0,
  rate429: 0,
  retryAfterS: 1,
  rate5xx: 0,
  resetRate: 0,
  malformedRate: 0.1,
  feedbackMalformedFactor: 0.3,
  lazyInputsRate: 0.25,
  nSupport: true,
  nLimit: 0,
  nCap: 0,
  nullContentRate: 0,
  contextLimitChars: 0,
  maxConcurrent: 0,
  reasoningStyle: 'none',
  batchDelayMs: 1000,
  batchMaxRequests: 50_000,
});

type Kind = 'int' | 'nonneg' | 'unit' | 'positive' | 'bool' | 'style' | 'string';

const KINDS: Record<keyof SimSettings, Kind> = {
  seed: 'int',
  skill: 'unit',
  sharpness: 'positive',
  teacherStep: 'unit',
  teacherLatencyMs: 'nonneg',
  studentLatencyMs: 'nonneg',
  rate429: 'unit',
  retryAfterS: 'nonneg',
  rate5xx: 'unit',
  resetRate: 'unit',
  malformedRate: 'unit',
  feedbackMalformedFactor: 'nonneg',
  lazyInputsRate: 'unit',
  nSupport: 'bool',
  nLimit: 'nonneg',
  nCap: 'nonneg',
  nullContentRate: 'unit',
  contextLimitChars: 'nonneg',
  maxConcurrent: 'nonneg',
  reasoningStyle: 'style',
  batchDelayMs: 'nonneg',
  batchMaxRequests: 'positive',
  apiKey: 'string',
};

/** The setting names, for help texts and strict admin updates. */
export const SIM_SETTING_KEYS = Object.keys(KINDS) as Array<keyof SimSettings>;

/** A bad setting value or name; the message says which and why. */
export class SimSettingsError extends Error {
  override name = 'SimSettingsError';
}

function camel(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function coerce(key: string, kind: Kind, raw: unknown): unknown {
  if (kind === 'string') return raw === null || raw === '' ? undefined : String(raw);
  if (kind === 'bool') {
    if (typeof raw === 'boolean') return raw;
    const s = String(raw).toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    throw new SimSettingsError(`${key}: expected a boolean, got ${JSON.stringify(raw)}`);
  }
  if (kind === 'style') {
    if (raw === 'none' || raw === 'think_tags' || raw === 'reasoning_content') return raw;
    throw new SimSettingsError(`${key}: expected none | think_tags | reasoning_content, got ${JSON.stringify(raw)}`);
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw new SimSettingsError(`${key}: expected a number, got ${JSON.stringify(raw)}`);
  if (kind === 'int' && !Number.isInteger(n)) throw new SimSettingsError(`${key}: expected an integer, got ${n}`);
  if (kind === 'unit' && (n < 0 || n > 1)) throw new SimSettingsError(`${key}: expected a value in [0, 1], got ${n}`);
  if (kind === 'nonneg' && n < 0) throw new SimSettingsError(`${key}: expected a value >= 0, got ${n}`);
  if (kind === 'positive' && n <= 0) throw new SimSettingsError(`${key}: expected a value > 0, got ${n}`);
  return n;
}

/**
 * Settings from flags (commander's camelCase options, kebab-case keys, string or typed values) on
 * top of `base`. Undefined values keep the base. Unknown keys are ignored (a CLI passes other
 * options such as `port` too) unless `strict`, which the admin endpoint uses to catch typos.
 * Throws SimSettingsError on a bad value. The result is frozen.
 */
export function parseSimSettings(
  flags: Readonly<Record<string, unknown>>,
  base: Readonly<SimSettings> = DEFAULT_SIM_SETTINGS,
  opts: { strict?: boolean } = {},
): Readonly<SimSettings> {
  const out: Record<string, unknown> = { ...base };
  for (const [rawKey, raw] of Object.entries(flags)) {
    const key = camel(rawKey);
    const kind = (KINDS as Record<string, Kind | undefined>)[key];
    if (!kind) {
      if (opts.strict) throw new SimSettingsError(`unknown setting "${rawKey}" (known: ${SIM_SETTING_KEYS.join(', ')})`);
      continue;
    }
    if (raw === undefined) continue;
    out[key] = coerce(key, kind, raw);
  }
  for (const k of ['maxConcurrent', 'nLimit', 'nCap', 'contextLimitChars'] as const) {
    if (out[k] !== undefined && !Number.isInteger(out[k])) throw new SimSettingsError(`${k}: expected an integer, got ${String(out[k])}`);
  }
  if (out.apiKey === undefined) delete out.apiKey;
  return Object.freeze(out as unknown as SimSettings);
}

/** `--set key=value` pairs (repeatable) plus CAIRN_SIM_SETTINGS (JSON) into strict simulator settings. */
export function simSettingsFrom(env: NodeJS.ProcessEnv, pairs: string[]) {
  let base: Record<string, unknown> = {};
  if (env.CAIRN_SIM_SETTINGS) {
    try {
      base = JSON.parse(env.CAIRN_SIM_SETTINGS) as Record<string, unknown>;
    } catch {
      throw new Error(`CAIRN_SIM_SETTINGS must be JSON, e.g. {"rate429":0.3}; got ${env.CAIRN_SIM_SETTINGS}`);
    }
  }
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i < 1) throw new Error(`--set ${p}: expected key=value (keys: ${SIM_SETTING_KEYS.join(', ')})`);
    base[p.slice(0, i)] = p.slice(i + 1);
  }
  return parseSimSettings(base, undefined, { strict: true });
}

/** Settings for display: the API key is never echoed back. */
export function publicSettings(s: Readonly<SimSettings>): Record<string, unknown> {
  const { apiKey, ...rest } = s;
  return { ...rest, apiKey: apiKey ? '(set)' : null };
}
