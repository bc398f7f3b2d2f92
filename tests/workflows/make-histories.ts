/**
 * Records the workflow histories that the replay test checks every change against. Run it when a
 * workflow changes on purpose (behind `patched()` for running workflows), then commit the files:
 *   npx tsx tests/workflows/make-histories.ts            (all)
 *   npx tsx tests/workflows/make-histories.ts --only seed-adaptive,batch-budget
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { TASK_QUEUES, batchWorkflowId, type BatchWorkflowInput, type SeedWorkflowInput } from '../../workflows/contracts';
import { mockWorld, withWorkers } from '../helpers/mock-world';
import { startTestEnv, temporalCliPath } from '../helpers/temporal';

async function main(): Promise<void> {
  const env = await startTestEnv();
  const out = path.join(__dirname, 'histories');
  try {
    const w = mockWorld(['s000', 's001', 's002', 's003'], { passRate: 0.5 });
    await withWorkers(env, w.acts, async () => {
      const runs: [string, string, unknown][] = [
        ['seed-multi', 'seedWorkflow', { batchId: 'r', seedId: 'm', env: 'induction', turns: 3, attempts: 4 } satisfies SeedWorkflowInput],
        [
          'seed-single',
          'seedWorkflow',
          { batchId: 'r', seedId: 's', env: 'induction', turns: 2, attempts: 4, mode: 'single' } satisfies SeedWorkflowInput,
        ],
        [
          'seed-chain',
          'seedWorkflow',
          { batchId: 'r', seedId: 'c', env: 'induction', turns: 3, attempts: 4, mode: 'chain' } satisfies SeedWorkflowInput,
        ],
        ['batch', 'batchWorkflow', { batchId: 'rb', env: 'induction', turns: 1, attempts: 2, window: 2 } satisfies BatchWorkflowInput],
        [
          'seed-adaptive',
          'seedWorkflow',
          { batchId: 'r', seedId: 'a', env: 'induction', turns: 2, attempts: 16, sampling: 'adaptive' } satisfies SeedWorkflowInput,
        ],
        [
          'batch-budget',
          'batchWorkflow',
          { batchId: 'rbb', env: 'induction', turns: 1, attempts: 2, window: 2, budgeted: true } satisfies BatchWorkflowInput,
        ],
      ];
      // `--only a,b` records just those (new paths), leaving the committed ones as they are.
      const i = process.argv.indexOf('--only');
      const only = i >= 0 ? new Set((process.argv[i + 1] ?? '').split(',')) : null;
      for (const [name, type, input] of runs) {
        if (only && !only.has(name)) continue;
        const batchId = (input as { batchId: string }).batchId;
        const id = type === 'batchWorkflow' ? batchWorkflowId(batchId) : `replay-${name}`;
        const h = await env.client.workflow.start(type, { taskQueue: TASK_QUEUES.orchestration, workflowId: id, args: [input] });
        await h.result();
        // The CLI's JSON is the canonical proto JSON that historyFromJSON reads back.
        const json = execFileSync(
          temporalCliPath(),
          ['workflow', 'show', '--address', env.address, '--workflow-id', id, '--output', 'json'],
          { maxBuffer: 1 << 26 },
        );
        fs.writeFileSync(path.join(out, `${name}.json`), json);
        console.log(`wrote histories/${name}.json`);
      }
    });
  } finally {
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
