import {
  ActivityCancellationType,
  ActivityFailure,
  type ActivityOptions,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setWorkflowOptions,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createBookkeepingActivities, createGraderActivities, createStudentActivities, createTeacherActivities } from '../activities';
import { CHAIN_START, chainNext, type ChainResult } from './method/chain';
import { nextInstruction, seedOutcome, type PreviousTurn } from './method/progression';
import { samplingRounds } from './method/sampling';
import { llmBatchReadySignal, seedDoneSignal } from './contracts/messages';
import {
  ERR,
  PAPER_CHAIN_BINS,
  SA,
  TASK_QUEUES,
  batchWorkflowId,
  type Instruction,
  type Level,
  type SeedWorkflowInput,
  type SeedWorkflowResult,
  type TurnSummary,
} from './contracts';

// Retry profiles sit next to the proxies. LLM calls: long start-to-close (a big model can take
// minutes), heartbeats to notice a dead worker, unlimited attempts (429 storms cost time, not data),
// capped backoff; rejected requests are non-retryable by classification.
const llmCall: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '60 seconds',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', nonRetryableErrorTypes: [ERR.llmRejected] },
};
const sandbox: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '60 seconds',
  retry: { initialInterval: '1s', maximumInterval: '1 minute' },
};
// Bookkeeping waits for a cancelled write to really end, so a late 'running' cannot land after 'failed'.
const dbWrite: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500ms', maximumInterval: '30s' },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

const teacher = proxyActivities<ReturnType<typeof createTeacherActivities>>({ taskQueue: TASK_QUEUES.teacher, ...llmCall });
const student = proxyActivities<ReturnType<typeof createStudentActivities>>({ taskQueue: TASK_QUEUES.student, ...llmCall });
const grader = proxyActivities<ReturnType<typeof createGraderActivities>>({ taskQueue: TASK_QUEUES.grader, ...sandbox });
const books = proxyActivities<ReturnType<typeof createBookkeepingActivities>>({ taskQueue: TASK_QUEUES.orchestration, ...dbWrite });

/**
 * One seed's multi-turn loop: teacher -> validate -> student x M -> grade -> progression rule.
 * Carries ids and pass rates only; every text is in Postgres.
 */
// Worker Versioning: a seed finishes on the build it started on (no patching needed for seed changes).
// Declared only on a versioned worker (CAIRN_WORKER_VERSIONING=1): an unversioned one must declare none.
setWorkflowOptions(() => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'PINNED' } : {}), seedWorkflow);
export async function seedWorkflow(input: SeedWorkflowInput): Promise<SeedWorkflowResult> {
  setHandler(llmBatchReadySignal, () => void batchReady++);
  let ok = false;
  let rejected: string | undefined;
  try {
    const result = await runTurns(input);
    ok = true;
    return result;
  } catch (err) {
    // Record why in Postgres (the record of what is done), even when cancelled, then fail as before.
    rejected = rejectionOf(err);
    const outcome = isCancellation(err) ? 'cancelled' : `error: ${rejected ?? (err as Error).message}`.slice(0, 500);
    await CancellationScope.nonCancellable(() =>
      books.markSeed({ batchId: input.batchId, seedId: input.seedId, status: 'failed', outcome }),
    );
    throw err;
  } finally {
    if (input.notifyBatch) {
      await CancellationScope.nonCancellable(() =>
        getExternalWorkflowHandle(batchWorkflowId(input.batchId))
          .signal(seedDoneSignal, { seedId: input.seedId, ok, ...(rejected ? { rejected } : {}) })
          .catch(() => undefined),
      ); // no batch running (a direct start): nothing to tell
    }
  }
}

/** The endpoint's message when an LLM request was rejected (non-retryable 4xx), else undefined. */
function rejectionOf(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ERR.llmRejected)
    return err.cause.message;
  return undefined;
}

async function runTurns(input: SeedWorkflowInput): Promise<SeedWorkflowResult> {
  if (input.turns < 1 || input.attempts < 1) {
    throw ApplicationFailure.create({
      type: ERR.badBatch,
      nonRetryable: true,
      message: `turns (${input.turns}) and attempts (${input.attempts}) must be >= 1`,
    });
  }
  await books.markSeed({ batchId: input.batchId, seedId: input.seedId, status: 'running' });
  // Fewer search-attribute upserts (each is a billed Temporal action): one per turn instead of five,
  // the phase within a turn in the details only, the pass rate folded into the next upsert.
  const sa: SaState = { lean: patched('lean-search-attributes'), passRate: null };
  const mode = input.mode ?? 'multi';
  const turns: TurnSummary[] = [];
  if (mode === 'chain') {
    let chain = CHAIN_START;
    let last: ChainResult | undefined;
    for (let turn = 1; turn <= input.turns && !chain.done; turn++) {
      const next = chainNext(chain, last, input.chainBins ?? PAPER_CHAIN_BINS);
      chain = next.state;
      if (chain.done) break;
      const t = await oneTurn(sa, input, turn, next.instruction, next.prevProblemId, next.level);
      turns.push(t);
      last = t.valid ? { problemId: t.problemId, valid: true, passRate: t.passRate as number } : { problemId: t.problemId, valid: false };
    }
  } else {
    let prev: (PreviousTurn & { problemId: number }) | undefined;
    for (let turn = 1; turn <= input.turns; turn++) {
      // single: every call independent (no summary), the paper's baseline with the same teacher budget.
      const t =
        mode === 'single'
          ? await oneTurn(sa, input, turn, 'initial', null, null)
          : await oneTurn(sa, input, turn, nextInstruction(prev), prev?.problemId ?? null, null);
      turns.push(t);
      prev = t.valid ? { valid: true, passRate: t.passRate as number, problemId: t.problemId } : { valid: false, problemId: t.problemId };
    }
  }
  const outcome = seedOutcome(turns);
  upsertSearchAttributes([
    { key: SA.phase, value: 'done' },
    { key: SA.outcome, value: outcome },
    ...(sa.passRate !== null ? [{ key: SA.passRate, value: sa.passRate }] : []),
  ]);
  setCurrentDetails(
    `done (${mode}): ${outcome}; pass rates ${turns.map((t) => (t.passRate === null ? 'invalid' : t.passRate.toFixed(2))).join(', ')}`,
  );
  await books.markSeed({ batchId: input.batchId, seedId: input.seedId, status: 'done', outcome });
  log.info('seed done', { seedId: input.seedId, outcome, workflowId: workflowInfo().workflowId });
  return { outcome, turns };
}

/** One problem: teacher -> validate (sandbox) -> student x M -> grade (sandbox). Invalid ones skip the student. */
async function oneTurn(
  sa: SaState,
  input: SeedWorkflowInput,
  turn: number,
  instruction: Instruction,
  prevProblemId: number | null,
  level: Level | null,
): Promise<TurnSummary> {
  const of = `turn ${turn}/${input.turns}`;
  phase(sa, turn, 'teacher', `${of}: teacher writes a problem (${instruction})`);
  const proposed = await viaBatch(() =>
    teacher.proposeProblem({
      batchId: input.batchId,
      seedId: input.seedId,
      env: input.env,
      turn,
      instruction,
      prevProblemId,
      level,
      // Independent calls with the same prompt must still be distinct samples.
      sample: input.mode === 'single' ? turn : undefined,
    }),
  );
  let valid = false;
  if (proposed.parsed) {
    phase(sa, turn, 'validate', `${of}: executing problem ${proposed.problemId}`);
    valid = (await grader.validateProblem({ problemId: proposed.problemId })).valid;
  }
  if (!valid) return { turn, problemId: proposed.problemId, valid: false, passRate: null };
  if (input.sampling === 'adaptive' && patched('adaptive-sampling')) {
    // Rounds of 4, 8, 16, ... up to M; each round asks only for the samples it lacks (the per-sample
    // cache), and the grader says when the interval settles what the pass rate is used for.
    phase(sa, turn, 'student', `${of}: student attempts in rounds up to ${input.attempts}`);
    let passRate = 0;
    for (const n of samplingRounds(input.attempts)) {
      setCurrentDetails(`${of}: student round of ${n} attempts (at most ${input.attempts})`);
      const got = await viaBatch(() => student.attemptProblem({ problemId: proposed.problemId, attempts: n }));
      if (got < n) return { turn, problemId: proposed.problemId, valid: false, passRate: null };
      const g = await grader.gradeAttempts({ problemId: proposed.problemId, round: { of: input.attempts } });
      passRate = g.passRate;
      if (g.settled !== false) break;
    }
    recordPassRate(sa, passRate);
    return { turn, problemId: proposed.problemId, valid: true, passRate };
  }
  phase(sa, turn, 'student', `${of}: student makes ${input.attempts} attempts`);
  const got = await viaBatch(() => student.attemptProblem({ problemId: proposed.problemId, attempts: input.attempts }));
  // Fewer than M samples: the problem failed for want of samples (recorded with the reason); never graded on what came.
  if (got < input.attempts && patched('sample-shortfall')) return { turn, problemId: proposed.problemId, valid: false, passRate: null };
  phase(sa, turn, 'grade', `${of}: grading ${input.attempts} attempts`);
  const g = await grader.gradeAttempts({ problemId: proposed.problemId });
  recordPassRate(sa, g.passRate);
  return { turn, problemId: proposed.problemId, valid: true, passRate: g.passRate };
}

/** Signals from the batch API collector (a batched LLM request of this seed has its answer). */
let batchReady = 0;
/** How long a seed waits for the collector's signal before it looks in the cache anyway (a lost signal costs at most this). */
const BATCH_RECHECK = '1 hour';

/**
 * Provider batch API (CAIRN_<ROLE>_API=batch, activities/llm/batch-api): an LLM activity whose
 * samples went into a batch file fails at once with ERR.llmBatchPending, holding no worker slot.
 * The seed then waits durably (a signal or a timer, however long the batch takes, across worker
 * and server restarts) and calls the activity again, which finds its samples in the cache.
 */
async function viaBatch<T>(call: () => Promise<T>): Promise<T> {
  for (;;) {
    const seen = batchReady;
    try {
      return await call();
    } catch (err) {
      const pending = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ERR.llmBatchPending;
      if (!pending || !patched('llm-batch-wait')) throw err;
      await condition(() => batchReady > seen, BATCH_RECHECK);
    }
  }
}

/** Search attributes this seed has yet to write (lean: the pass rate waits for the next upsert). */
interface SaState {
  lean: boolean;
  passRate: number | null;
}

function recordPassRate(sa: SaState, passRate: number): void {
  if (sa.lean) sa.passRate = passRate;
  else upsertSearchAttributes([{ key: SA.passRate, value: passRate }]);
}

function phase(sa: SaState, turn: number, name: string, details: string): void {
  if (sa.lean) {
    if (name === 'teacher') {
      upsertSearchAttributes([
        { key: SA.turn, value: turn },
        { key: SA.phase, value: 'running' },
        ...(sa.passRate !== null ? [{ key: SA.passRate, value: sa.passRate }] : []),
      ]);
      sa.passRate = null;
    }
    setCurrentDetails(details);
    return;
  }
  upsertSearchAttributes([
    { key: SA.turn, value: turn },
    { key: SA.phase, value: name },
  ]);
  setCurrentDetails(details);
}
