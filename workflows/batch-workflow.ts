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
  setWorkflowOptions,
  startChild,
  upsertSearchAttributes,
  allHandlersFinished,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { createBookkeepingActivities } from '../activities';
import { cancelUpdate, pauseUpdate, progressQuery, resizeUpdate, resumeUpdate, seedDoneSignal } from './contracts/messages';
import { pickWeighted } from './env-mix';
import { CHUNK, chunked, windowCapacity } from './window';
import {
  SA,
  TASK_QUEUES,
  seedWorkflowId,
  type BatchCounts,
  type BatchProgress,
  type BatchWorkflowInput,
  type BatchState,
  type SeedDone,
} from './contracts';
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
// Worker Versioning: the batch lives for days, so it moves to each new build at its next task;
// every behaviour change in it is behind patched() so its history replays on the new code.
// Declared only on a versioned worker (CAIRN_WORKER_VERSIONING=1): an unversioned one must declare none.
setWorkflowOptions(
  () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'AUTO_UPGRADE' } : {}),
  batchWorkflow,
);
export async function batchWorkflow(input: BatchWorkflowInput): Promise<BatchCounts & { cancelled: boolean }> {
  // Bounded in every task and payload whatever the window: ids go in chunks (CHUNK), children start
  // concurrently a chunk at a time, and the open set crosses continue-as-new through Postgres.
  const bounded = patched('bounded-batch');
  const open = new Set(input.open ?? []);
  /** True while this run reads the open set its predecessor left in Postgres; seed reports wait meanwhile. */
  let loading = input.openFrom !== undefined;
  let early: SeedDone[] = [];
  const counts: BatchCounts = { ...(input.counts ?? { started: 0, finished: 0, failed: 0 }) };
  let window = input.window;
  let paused = input.paused ?? false;
  let cancelled = false;
  let exhausted = false;
  let stopReason: string | null = null;
  let cursor = input.cursor ?? '';
  let startedThisRun = 0;
  let idleSpent = 0;
  let reconciles = input.reconciles ?? 0;
  /** Bumped by a resume that rewinds the cursor: a page fetched before it is stale. */
  let rewinds = 0;
  const perRun = input.childrenPerRun ?? DEFAULT_CHILDREN_PER_RUN;
  /** A budgeted batch checks its spend when it has started this many seeds (first at the start of each run). */
  let spendCheckAt = counts.started;

  // The state as a search attribute (the UI's list, `batch list`) and in the current details.
  const showsState = patched('batch-state');
  let shown: BatchState | undefined = workflowInfo().typedSearchAttributes.get(SA.batchState) as BatchState | undefined;
  let ended = false;
  const state = (): BatchState => (cancelled ? 'cancelled' : ended ? 'finished' : stopReason ? 'stopped' : paused ? 'paused' : 'running');
  const show = () => {
    const st = state();
    const tally = `${counts.finished} done, ${counts.failed} failed, ${open.size} open (window ${window})`;
    setCurrentDetails(
      st === 'stopped'
        ? `STOPPED, ${stopReason}\n${tally}`
        : st === 'paused'
          ? `PAUSED (\`cairn batch resume\` continues): ${tally}`
          : `${st}: ${tally}`,
    );
    if (showsState && st !== shown) {
      upsertSearchAttributes([{ key: SA.batchState, value: st }]);
      shown = st;
    }
  };
  const progress = (): BatchProgress => ({ ...counts, open: open.size, window, paused, cancelled, exhausted, stopReason, reconciles });
  const finish = (d: SeedDone) => {
    if (d.rejected && !stopReason) {
      // A wrong key or model name fails every seed the same way: stop starting seeds and say why.
      paused = true;
      stopReason = `paused: an LLM endpoint rejected a request (${d.rejected}). Fix the setting, restart the workers, then \`cairn batch resume\`.`;
      if (showsState) show();
      else setCurrentDetails(stopReason);
      log.warn('batch paused', { batchId: input.batchId, reason: d.rejected });
    }
    if (loading) {
      early.push(d);
      return;
    }
    if (!open.delete(d.seedId)) return;
    if (d.ok) counts.finished++;
    else counts.failed++;
  };
  setHandler(progressQuery, progress);
  setHandler(seedDoneSignal, finish);
  setHandler(pauseUpdate, () => {
    paused = true;
    show();
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
    show();
    return progress();
  });
  setHandler(
    resizeUpdate,
    (n) => {
      window = n;
      show();
      return progress();
    },
    {
      validator: (n) => {
        if (!Number.isInteger(n) || n < 1) throw new Error(`window must be a whole number >= 1 (got ${n})`);
      },
    },
  );
  const cancelSeed = (id: string) =>
    getExternalWorkflowHandle(seedWorkflowId(input.batchId, id))
      .cancel()
      .catch(() => undefined);
  setHandler(cancelUpdate, async () => {
    cancelled = true;
    show();
    // Ask every open seed to stop; each records itself as failed ('cancelled') and can be resumed later.
    if (!bounded) {
      await Promise.all([...open].map(cancelSeed));
      return progress();
    }
    // A chunk of requests per workflow task (the server fails a task past 2,000 pending requests).
    await condition(() => !loading);
    for (const part of chunked([...open], CHUNK.cancel)) await Promise.all(part.map(cancelSeed));
    return progress();
  });

  if (input.openFrom) {
    // The open set the previous run wrote, a page per activity.
    for (let after = ''; ;) {
      const page = await books.loadOpenSeeds({ batchId: input.batchId, runId: input.openFrom.runId, after, limit: CHUNK.snapshot });
      for (const id of page) open.add(id);
      if (page.length < CHUNK.snapshot) break;
      after = page[page.length - 1] as string;
    }
    loading = false;
    const reported = early;
    early = [];
    for (const d of reported) finish(d);
  }

  if (showsState) show();

  /** What the next run starts from; the open ids go through Postgres (bounded) or in the input (before the patch). */
  const nextInput = (): BatchWorkflowInput =>
    bounded
      ? {
          ...input,
          window,
          paused,
          open: undefined,
          openFrom: { runId: workflowInfo().runId, count: open.size },
          cursor,
          counts,
          reconciles,
        }
      : { ...input, window, paused, open: [...open], cursor, counts };
  /**
   * Writes the open set for the next run, in chunks, then waits for handlers. False when a cancel
   * arrived meanwhile (the batch ends instead). Seeds that report while it writes are taken out of
   * the snapshot again, so the next run neither waits for them nor counts them twice.
   */
  const carryOver = async (): Promise<boolean> => {
    await condition(allHandlersFinished);
    if (!bounded) return true;
    const runId = workflowInfo().runId;
    const saved = new Set(open);
    const parts = chunked([...saved], CHUNK.snapshot);
    await books.saveOpenSeeds({ batchId: input.batchId, runId, seedIds: parts[0] ?? [], first: true });
    for (const part of parts.slice(1)) await books.saveOpenSeeds({ batchId: input.batchId, runId, seedIds: part, first: false });
    for (;;) {
      await condition(allHandlersFinished);
      if (cancelled) return false;
      const gone = [...saved].filter((id) => !open.has(id));
      if (gone.length === 0) return true;
      for (const part of chunked(gone, CHUNK.snapshot)) await books.dropOpenSeeds({ batchId: input.batchId, runId, seedIds: part });
      for (const id of gone) saved.delete(id);
    }
  };

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
      const idleBounded = patched('idle-continue-as-new');
      if (bounded) {
        for (const part of chunked([...open], CHUNK.reconcile))
          for (const d of await books.closedSeeds({ batchId: input.batchId, seedIds: part })) finish(d);
      } else if (!idleBounded || open.size > 0) {
        for (const d of await books.closedSeeds({ batchId: input.batchId, seedIds: [...open] })) finish(d);
      }
      // Idle (paused, an outage, the tail) must not grow history without bound either: each
      // reconcile costs events plus the open ids it sends, so continue as new on a budget.
      idleSpent += open.size + 50;
      reconciles++;
      if (idleBounded && (idleSpent >= (input.idleBudget ?? IDLE_BUDGET) || workflowInfo().continueAsNewSuggested)) {
        if (!(await carryOver())) break;
        return continueAsNew<typeof batchWorkflow>(nextInput());
      }
      continue;
    }
    if (cancelled || (exhausted && open.size === 0)) break;
    if (startedThisRun >= perRun || workflowInfo().continueAsNewSuggested) {
      if (!(await carryOver())) break;
      return continueAsNew<typeof batchWorkflow>(nextInput());
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
    const limit = bounded
      ? Math.min(CHUNK.start, windowCapacity(open.size, window), perRun - startedThisRun)
      : Math.min(PAGE, windowCapacity(open.size, window));
    const page = await books.pageSeeds({ batchId: input.batchId, after: cursor, limit });
    if (asked !== rewinds) continue; // a resume rewound the cursor while this page was in flight
    if (page.length === 0) {
      exhausted = true;
      continue;
    }
    if (bounded) {
      // The whole page starts in one workflow task; the cursor moves first, so a resume meanwhile rewinds it for good.
      cursor = page[page.length - 1] as string;
      const fresh = page.filter((id) => !open.has(id));
      for (const id of fresh) open.add(id);
      counts.started += fresh.length;
      startedThisRun += fresh.length;
      await Promise.all(fresh.map((id) => startSeed(input, id).catch(alreadyRunning)));
    } else {
      for (const seedId of page) {
        cursor = seedId;
        if (open.has(seedId)) continue;
        open.add(seedId);
        counts.started++;
        startedThisRun++;
        await startSeed(input, seedId).catch(alreadyRunning);
      }
    }
    if (showsState) show();
    else
      setCurrentDetails(
        `${counts.finished} done, ${counts.failed} failed, ${open.size} open (window ${window})${paused ? ', paused' : ''}`,
      );
  }
  ended = true;
  if (showsState) show();
  else setCurrentDetails(cancelled ? 'cancelled' : `finished: ${counts.finished} done, ${counts.failed} failed`);
  log.info('batch ended', { batchId: input.batchId, ...counts, cancelled });
  await condition(allHandlersFinished);
  if (bounded) await books.clearOpenSeeds({ batchId: input.batchId });
  return { ...counts, cancelled };
}

/** Already running (started by an earlier run or starter): it will signal us when it ends. */
function alreadyRunning(err: unknown): void {
  if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
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
