/**
 * Activity factories, one per task queue, and `activitiesFor(queue, deps)`: the one way the
 * worker, the benchmarks and the tests build a queue's activities. Workflows type their proxies
 * with ReturnType of the factories; workers register the same objects, so nothing proxied is left
 * unregistered.
 */
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import type { PriceTable } from '../db/queries/cost';
import type { QueueName } from '../workflows/contracts';
import { createBookkeepingActivities } from './bookkeeping';
import { createGraderActivities } from './grader';
import type { LlmClient } from './llm/llm-client';
import type { Sandbox } from './sandbox/contract';
import type { BenchmarkItem } from './decontam/ngrams';
import { createStudentActivities } from './student';
import { createTeacherActivities } from './teacher';

export { createBookkeepingActivities, createGraderActivities, createStudentActivities, createTeacherActivities };

/** Everything a queue's activities may need; each queue takes what it uses (checked at build time). */
export interface ActivityDeps {
  db: Database;
  teacher?: LlmClient;
  student?: LlmClient;
  sandbox?: Sandbox;
  /** Grader: wall-clock backstop as a multiple of the CPU limit. */
  wallFactor?: number;
  /** Grader: what the sandbox enforces, recorded as provenance. */
  sandboxDetails?: Record<string, unknown>;
  /** Grader: public benchmark items for the contamination check (loaded on first use). */
  benchmarks?: () => Promise<BenchmarkItem[]>;
  /** Grader: told once when this host's sandbox fails its self-check (the worker stops polling). */
  onSandboxBroken?: (reason: string) => void;
  /** Orchestration: lets the reconcile ask Temporal about seeds that closed without reporting. */
  temporal?: Client;
  /** Orchestration: the price table for budgets. */
  prices?: PriceTable;
}

export interface QueueActivities {
  orchestration: ReturnType<typeof createBookkeepingActivities>;
  teacher: ReturnType<typeof createTeacherActivities>;
  student: ReturnType<typeof createStudentActivities>;
  grader: ReturnType<typeof createGraderActivities>;
}

/** Every activity of every queue (what a test's mock must provide). */
export type AllActivities = QueueActivities['orchestration'] &
  QueueActivities['teacher'] &
  QueueActivities['student'] &
  QueueActivities['grader'];

function need<T>(v: T | undefined, queue: QueueName, what: string): T {
  if (v === undefined) throw new Error(`activitiesFor('${queue}') needs deps.${what}`);
  return v;
}

export function activitiesFor<Q extends QueueName>(queue: Q, deps: ActivityDeps): QueueActivities[Q] {
  const { db } = deps;
  const built: { [K in QueueName]: () => QueueActivities[K] } = {
    orchestration: () => createBookkeepingActivities({ db, temporal: deps.temporal, prices: deps.prices }),
    teacher: () => createTeacherActivities({ db, teacher: need(deps.teacher, queue, 'teacher') }),
    student: () => createStudentActivities({ db, student: need(deps.student, queue, 'student') }),
    grader: () =>
      createGraderActivities({
        db,
        sandbox: need(deps.sandbox, queue, 'sandbox'),
        wallFactor: deps.wallFactor,
        details: deps.sandboxDetails,
        benchmarks: deps.benchmarks,
        onSandboxBroken: deps.onSandboxBroken,
      }),
  };
  return built[queue]();
}
