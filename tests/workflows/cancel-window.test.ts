/**
 * Slow tier: cancel with a window larger than Temporal's 2,000 pending cancel requests per
 * workflow, on a real dev server. The cancel goes out in awaited chunks, so no workflow task fails
 * for its size, the batch closes, and every open seed records itself cancelled. (npm run
 * bench:scale measures the same at 2,000 open seeds over the real stack.)
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { TASK_QUEUES, batchWorkflowId, cancelUpdate, progressQuery } from '../../workflows/contracts';
import { batchUpdate } from '../../scripts/lib';
import { mockWorld, withWorkers } from '../helpers/mock-world';
import { startTestEnv } from '../helpers/temporal';

const WINDOW = 2500;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTestEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

async function until(what: string, fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test(`cancel with ${WINDOW} seeds open: chunks of requests, no failed task, every seed recorded cancelled`, async () => {
  const ids = Array.from({ length: WINDOW + 100 }, (_, i) => `s${String(i).padStart(5, '0')}`);
  const w = mockWorld(ids);
  w.hold();
  await withWorkers(env, w.acts, async () => {
    try {
      const h = await env.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
        taskQueue: TASK_QUEUES.orchestration,
        workflowId: batchWorkflowId('big-cancel'),
        args: [{ batchId: 'big-cancel', env: 'induction', turns: 1, attempts: 2, window: WINDOW, childrenPerRun: 1000 }],
      });
      await until(`${WINDOW} open`, async () => (await h.query(progressQuery)).open === WINDOW, 600_000);
      await batchUpdate(h, cancelUpdate);
      w.open();
      const r = await h.result();
      expect(r).toMatchObject({ started: WINDOW, cancelled: true });
      await until(
        'every open seed recorded cancelled',
        async () => [...w.status.values()].filter((s) => s === 'cancelled').length === WINDOW,
        600_000,
      );
      // No workflow task of any run failed for a reason that repeats (past 2,000 pending cancel
      // requests in one task, every retry would: PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED). Two causes are
      // the server's own flow control and retry at once with the new events, so they are allowed:
      // UNHANDLED_COMMAND (the workflow tried to close while signals were arriving) and
      // FORCE_CLOSE_COMMAND (more than the server's buffered-event limit, 100, arrived during one task).
      // The batch closing above is what shows they converged.
      const benign = new Set(['WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND', 'WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND']);
      const failedTasks: Array<{ cause: string; what: string }> = [];
      let runs = 0;
      for await (const ex of env.client.workflow.list({ query: `WorkflowId = "${batchWorkflowId('big-cancel')}"` })) {
        runs++;
        const hist = await env.client.workflow.getHandle(ex.workflowId, ex.runId).fetchHistory();
        const events = hist.events ?? [];
        events.forEach((e, i) => {
          if (e.eventType !== temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) return;
          const a = e.workflowTaskFailedEventAttributes;
          const cause = temporal.api.enums.v1.WorkflowTaskFailedCause[a?.cause ?? 0] ?? '?';
          const around = events
            .slice(Math.max(0, i - 4), i + 3)
            .map((x) => temporal.api.enums.v1.EventType[x.eventType ?? 0]?.replace('EVENT_TYPE_', ''))
            .join(' ');
          failedTasks.push({
            cause,
            what: `run ${ex.runId} event ${String(e.eventId)}: ${cause} by ${a?.identity ?? '?'}: ${a?.failure?.message ?? ''} [${around}]`,
          });
        });
      }
      if (failedTasks.length) console.log(`[cancel-window] failed workflow tasks:\n${failedTasks.map((f) => f.what).join('\n')}`);
      expect(runs).toBeGreaterThanOrEqual(3); // 2,500 starts at 1,000 per run: the open set crossed continue-as-new twice
      expect(failedTasks.filter((f) => !benign.has(f.cause)).map((f) => f.what)).toEqual([]);
    } finally {
      w.open(); // held activities must finish or the workers cannot shut down
    }
  });
  expect([...w.status.values()].filter((s) => s === 'pending')).toHaveLength(100); // never started
}, 1_500_000);
