/**
 * Type-checked mock activities for workflow tests: an in-memory "Postgres" of seeds and a scripted
 * teacher/grader, served by one worker per Cairn task queue on the test's dev server.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { AllActivities } from '../../activities';
import { TASK_QUEUES } from '../../workflows/contracts';
import { workflowBundle } from './temporal';

export type Acts = AllActivities;

/** Runs `fn` while workers for every Cairn queue serve `acts`; stops them after. */
export async function withWorkers<T>(env: TestWorkflowEnvironment, acts: Acts, fn: () => Promise<T>): Promise<T> {
  const bundle = await workflowBundle();
  const workers = await Promise.all(
    Object.values(TASK_QUEUES).map((taskQueue) =>
      Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        activities: acts,
        workflowBundle: bundle,
      }),
    ),
  );
  let result: { v: T } | { e: unknown } | undefined;
  const main = fn().then(
    (v) => {
      result = { v };
    },
    (e: unknown) => {
      result = { e };
    },
  );
  await Promise.all(workers.map((w) => w.runUntil(main)));
  if (!result) throw new Error('unreachable');
  if ('e' in result) throw result.e;
  return result.v;
}

/** An in-memory batch: seeds with statuses, and problems that grade to a fixed pass rate. */
export function mockWorld(seedIds: string[], opts: { passRate?: number; teacherDelayMs?: number } = {}) {
  const status = new Map<string, string>(seedIds.map((id) => [id, 'pending']));
  /** The open-seed snapshots a batch run leaves for the next (batch_open_seeds), by run id. */
  const snapshots = new Map<string, Set<string>>();
  let snapshotWrites = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let gate: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  const asked = new Map<number, number>();
  const acts: Acts = {
    async proposeProblem(inp) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await gate;
        if (opts.teacherDelayMs) await new Promise((r) => setTimeout(r, opts.teacherDelayMs));
      } finally {
        inFlight--;
      }
      return { problemId: inp.turn, parsed: true };
    },
    async validateProblem() {
      return { valid: true, reason: null };
    },
    async attemptProblem({ problemId, attempts }) {
      asked.set(problemId, attempts);
      return attempts;
    },
    async gradeAttempts({ problemId, round }) {
      const p = opts.passRate ?? 0.5;
      // Adaptive rounds: the interval "settles" once 8 samples are in (a scripted grader).
      if (round) {
        const total = asked.get(problemId) ?? 0;
        return { passed: p * total, total, passRate: p, settled: total >= 8 };
      }
      return { passed: p * 4, total: 4, passRate: p };
    },
    async markSeed({ seedId, status: st, outcome }) {
      if (status.get(seedId) === 'done' && st === 'running') return;
      status.set(seedId, outcome === 'cancelled' ? 'cancelled' : st);
    },
    async pageSeeds({ after, limit }) {
      return [...status.entries()]
        .filter(([id, st]) => id > after && st !== 'done')
        .map(([id]) => id)
        .sort()
        .slice(0, limit);
    },
    async saveOpenSeeds({ runId, seedIds, first }) {
      snapshotWrites++;
      if (first) for (const k of snapshots.keys()) if (k !== runId) snapshots.delete(k);
      const set = snapshots.get(runId) ?? new Set<string>();
      for (const id of seedIds) set.add(id);
      snapshots.set(runId, set);
    },
    async loadOpenSeeds({ runId, after, limit }) {
      return [...(snapshots.get(runId) ?? [])]
        .filter((id) => id > after)
        .sort()
        .slice(0, limit);
    },
    async dropOpenSeeds({ runId, seedIds }) {
      for (const id of seedIds) snapshots.get(runId)?.delete(id);
    },
    async clearOpenSeeds() {
      snapshots.clear();
    },
    async closedSeeds({ seedIds }) {
      return seedIds.filter((id) => status.get(id) === 'done').map((seedId) => ({ seedId, ok: true }));
    },
    async checkBudget() {
      return { spentUsd: 0, budgetUsd: null, reached: false, reason: '' };
    },
  };
  return {
    acts,
    status,
    snapshots,
    snapshotWrites: () => snapshotWrites,
    maxInFlight: () => maxInFlight,
    /** Holds every teacher call until open() (to observe a full window). */
    hold() {
      gate = new Promise((r) => {
        release = r;
      });
    },
    open() {
      release();
    },
  };
}
