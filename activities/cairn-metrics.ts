/**
 * Cairn's own Prometheus metrics (prom-client), counted by the activities in every process and
 * served by the worker's metrics endpoint (workers/metrics-server.ts) when CAIRN_METRICS_PORT is
 * set. Names start with `cairn_`; Temporal's runtime metrics (`temporal_`) come from the SDK's core
 * and are served on the same port.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const cairnRegistry = new Registry();
let defaults = false;
/** Process metrics (CPU, RSS, event-loop lag): once per process, when an endpoint serves them. */
export function collectProcessMetrics(): void {
  if (defaults) return;
  defaults = true;
  collectDefaultMetrics({ register: cairnRegistry });
}

const registers = [cairnRegistry];

/** LLM requests sent, by role and outcome (ok, rate_limited, transient, request, endpoint, aborted). */
export const llmRequests = new Counter({
  name: 'cairn_llm_requests_total',
  help: 'LLM requests sent to an endpoint, by role and outcome',
  labelNames: ['role', 'outcome'] as const,
  registers,
});
/** Samples paid for (choices stored); a request with n = M pays M. */
export const llmSamplesPaid = new Counter({
  name: 'cairn_llm_samples_paid_total',
  help: 'LLM samples paid for and stored, by role',
  labelNames: ['role'] as const,
  registers,
});
export const llmCacheHits = new Counter({
  name: 'cairn_llm_cache_hits_total',
  help: 'LLM samples served from the cache (not paid again), by role',
  labelNames: ['role'] as const,
  registers,
});
export const llmTokens = new Counter({
  name: 'cairn_llm_tokens_total',
  help: 'LLM tokens as reported by the endpoint, by role and kind (prompt, completion)',
  labelNames: ['role', 'kind'] as const,
  registers,
});
export const llmRateLimited = new Counter({
  name: 'cairn_llm_rate_limited_total',
  help: 'LLM requests answered 429 (rate limited), by role',
  labelNames: ['role'] as const,
  registers,
});
export const verdicts = new Counter({
  name: 'cairn_verdicts_total',
  help: 'Student attempts graded, by verdict (pass, fail)',
  labelNames: ['verdict'] as const,
  registers,
});
export const problemsValidated = new Counter({
  name: 'cairn_problems_validated_total',
  help: 'Teacher problems validated, by result (valid, invalid, duplicate)',
  labelNames: ['result'] as const,
  registers,
});
export const sandboxRuns = new Counter({
  name: 'cairn_sandbox_runs_total',
  help: 'Sandbox runs, by result (ok, infra: the host, not the code, failed)',
  labelNames: ['result'] as const,
  registers,
});
export const sandboxCpuMs = new Counter({
  name: 'cairn_sandbox_cpu_ms_total',
  help: 'CPU milliseconds spent by code in the sandbox',
  registers,
});
/** 1 while this host's sandbox works, 0 once it failed its check and the grader stopped taking tasks. */
export const sandboxHealthy = new Gauge({
  name: 'cairn_sandbox_healthy',
  help: '1 while this grader host sandbox works; 0 after it failed and the grader stopped polling',
  registers,
});

/** How the seeds-by-status gauge reads Postgres (set by a process that runs the orchestration queue). */
export type SeedCounter = () => Promise<{ status: string; n: number }[]>;
let seedCounter: SeedCounter | undefined;
let lastRead = 0;
let lastRows: { status: string; n: number }[] = [];
/** Seeds per status are counted in Postgres at most this often (a scrape every few seconds stays cheap). */
export const SEED_COUNT_EVERY_MS = 30_000;

export function setSeedCounter(fn: SeedCounter | undefined): void {
  seedCounter = fn;
  lastRead = 0;
}

new Gauge({
  name: 'cairn_seeds',
  help: 'Seeds by status over all batches (read from Postgres at most every 30 s, by orchestration workers)',
  labelNames: ['status'] as const,
  registers,
  async collect() {
    if (!seedCounter) return;
    if (Date.now() - lastRead >= SEED_COUNT_EVERY_MS) {
      try {
        lastRows = await seedCounter();
        lastRead = Date.now();
      } catch {
        // Postgres away: keep the last figures; the scrape still answers.
      }
    }
    this.reset();
    for (const r of lastRows) this.set({ status: r.status }, r.n);
  },
});
