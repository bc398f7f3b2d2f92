import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  condition,
  patched,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  allHandlersFinished,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { createBookkeepingActivities } from '../activities';
import { cancelUpdate, pauseUpdate, progressQuery, resizeUpdate, resumeUpdate, seedDoneSignal } from './contracts/messages';
import { pickWeighted } from './env-mix';
import { windowCapacity } from './window';
import { SA, TASK_QUEUES, seedWorkflowId, type BatchCounts, type BatchProgress, type BatchWorkflowInput, type SeedDone } from './contracts';
import type { Duration } from '@temporalio/common';
import type { seedWorkflow } from './seed-workflow';

export { cancelUpdate, pauseUpdate, progressQuery, resizeUpdate, resumeUpdate, seedDoneSignal } from './contracts/messages';

const dbRead: ActivityOptions = { startToCloseTimeout: '1 minute', retry: { initialInterval: '1s', maximumInterval: '30s' } };
const books = proxyActivities<ReturnType<typeof createBookkeepingActivities>>({ taskQueue: TASK_QUEUES.orchestration, ...dbRead });

const PAGE = 200;
const DEFAULT_CHILDREN_PER_RUN = 500;
/** How long a full window waits for news before asking Postgres/Temporal which seeds really ended. */
const RECONCILE_AFTER = '2 minutes';
/** Reconcile budget per run (open ids sent + 50 per reconcile): about 1,000 idle reconciles, or fewer with a big window. */
const IDLE_BUDGET = 50_000;

/**
 * One per batch (id `batch/<batchId>`): keeps at most `window` SeedWorkflows open, pages seed ids
 * from Postgres (only seeds not yet done), and continues as new every few hundred children carrying
 * only the open ids and counters. Children are ABANDONed so they outlive continue-as-new; they
 * report by signal, and a periodic reconcile catches any that were terminated without reporting.
 */
export async function batchWorkflow(input: BatchWorkflowInput): Promise<BatchCounts & { cancelled: boolean }> {
  const open = new Set(input.open ?? []);
  const counts: BatchCounts = { ...(input.counts ?? { started: 0, finished: 0, failed: 0 }) };
  let window = input.window;
  let paused = input.paused ?? false;
  let cancelled = false;
  let exhausted = false;
  let stopReason: string | null = null;
  let cursor = input.cursor ?? '';
  let startedThisRun = 0;
  let idleSpent = 0;
  /** Bumped by a resume that rewinds the cursor: a page fetched before it is stale. */
  let rewinds = 0;
  const perRun = input.childrenPerRun ?? DEFAULT_CHILDREN_PER_RUN;
  /** A budgeted batch checks its spend when it has started this many seeds (first at the start of each run). */
  let spendCheckAt = counts.started;

  const progress = (): BatchProgress => ({ ...counts, open: open.size, window, paused, cancelled, exhausted, stopReason });
  const finish = (d: SeedDone) => {
    if (d.rejected && !stopReason) {
      // A wrong key or model name fails every seed the same way: stop starting seeds and say why.
      paused = true;
      stopReason = `paused: an LLM endpoint rejected a request (${d.rejected}). Fix the setting, restart the workers, then \`cairn batch resume\`.`;
      setCurrentDetails(stopReason);
      log.warn('batch paused', { batchId: input.batchId, reason: d.rejected });
    }
    if (!open.delete(d.seedId)) return;
    if (d.ok) counts.finished++;
    else counts.failed++;
  };
  setHandler(progressQuery, progress);
  setHandler(seedDoneSignal, finish);
  setHandler(pauseUpdate, () => {
    paused = true;
    return progress();
  });
  setHandler(resumeUpdate, () => {
    paused = false;
    stopReason = null;
    // Page again from the start: seeds that failed behind the cursor run now, not after the batch
    // ends (the open set keeps running ones from starting twice). Behind a patch for histories
    // recorded before it.
    if (patched('resume-reruns-failed')) {
      cursor = '';
      exhausted = false;
      rewinds++;
    }
    return progress();
  });
  setHandler(
    resizeUpdate,
    (n) => {
      window = n;
      return progress();
    },
    {
      validator: (n) => {
        if (!Number.isInteger(n) || n < 1) throw new Error(`window must be a whole number >= 1 (got ${n})`);
      },
    },
  );
  setHandler(cancelUpdate, async () => {
    cancelled = true;
    // Ask every open seed to stop; each records itself as failed ('cancelled') and can be resumed later.
    await Promise.all(
      [...open].map((id) =>
        getExternalWorkflowHandle(seedWorkflowId(input.batchId, id))
          .cancel()
          .catch(() => undefined),
      ),
    );
    return progress();
  });

  for (;;) {
    const ready = await condition(
      () =>
        cancelled ||
        (!paused && !exhausted && windowCapacity(open.size, window) > 0) ||
        (exhausted && open.size === 0) ||
        startedThisRun >= perRun,
      (input.reconcileEvery ?? RECONCILE_AFTER) as Duration,
    );
    if (!ready) {
      const bounded = patched('idle-continue-as-new');
      if (!bounded || open.size > 0) {
        for (const d of await books.closedSeeds({ batchId: input.batchId, seedIds: [...open] })) finish(d);
      }
      // Idle (paused, an outage, the tail) must not grow history without bound either: each
      // reconcile costs events plus the open ids it sends, so continue as new on a budget.
      idleSpent += open.size + 50;
      if (bounded && (idleSpent >= (input.idleBudget ?? IDLE_BUDGET) || workflowInfo().continueAsNewSuggested)) {
        await condition(allHandlersFinished);
        return continueAsNew<typeof batchWorkflow>({ ...input, window, paused, open: [...open], cursor, counts });
      }
      continue;
    }
    if (cancelled || (exhausted && open.size === 0)) break;
    if (startedThisRun >= perRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof batchWorkflow>({ ...input, window, paused, open: [...open], cursor, counts });
    }
    if (input.budgeted && counts.started >= spendCheckAt && patched('budget-pause')) {
      // Every window/4 seeds started (and once per run): paused with the reason once the spend reaches the budget.
      // Open seeds finish their turns; what they pay is kept.
      const b = await books.checkBudget({ batchId: input.batchId });
      spendCheckAt = counts.started + Math.max(1, Math.floor(window / 4));
      if (b.reached && !paused) {
        paused = true;
        stopReason = b.reason;
        setCurrentDetails(b.reason);
        log.warn('batch paused', { batchId: input.batchId, reason: b.reason });
        continue;
      }
    }
    const asked = rewinds;
    const page = await books.pageSeeds({ batchId: input.batchId, after: cursor, limit: Math.min(PAGE, windowCapacity(open.size, window)) });
    if (asked !== rewinds) continue; // a resume rewound the cursor while this page was in flight
    if (page.length === 0) {
      exhausted = true;
      continue;
    }
    for (const seedId of page) {
      cursor = seedId;
      if (open.has(seedId)) continue;
      open.add(seedId);
      counts.started++;
      startedThisRun++;
      await startSeed(input, seedId).catch((err: unknown) => {
        // Already running (started by an earlier run or starter): it will signal us when it ends.
        if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
      });
    }
    setCurrentDetails(`${counts.finished} done, ${counts.failed} failed, ${open.size} open (window ${window})${paused ? ', paused' : ''}`);
  }
  setCurrentDetails(cancelled ? 'cancelled' : `finished: ${counts.finished} done, ${counts.failed} failed`);
  log.info('batch ended', { batchId: input.batchId, ...counts, cancelled });
  await condition(allHandlersFinished);
  return { ...counts, cancelled };
}

async function startSeed(input: BatchWorkflowInput, seedId: string) {
  const env = input.envWeights ? pickWeighted(seedId, input.envWeights) : input.env;
  const child = await startChild<typeof seedWorkflow>('seedWorkflow', {
    workflowId: seedWorkflowId(input.batchId, seedId),
    taskQueue: TASK_QUEUES.orchestration,
    args: [
      {
        batchId: input.batchId,
        seedId,
        env,
        turns: input.turns,
        attempts: input.attempts,
        notifyBatch: true,
        mode: input.mode,
        chainBins: input.chainBins,
        ...(input.sampling === 'adaptive' ? { sampling: 'adaptive' as const } : {}),
      },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    typedSearchAttributes: [
      { key: SA.batchId, value: input.batchId },
      { key: SA.seedId, value: seedId },
      { key: SA.env, value: env },
      { key: SA.phase, value: 'queued' },
    ],
  });
  return child;
}
