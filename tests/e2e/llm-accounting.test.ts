/**
 * The "done when", small, on the real stack (bench:llm's function): a student endpoint
 * without `n` at M = 16 under 30% 429s pays at most 15% more samples than it keeps, and a seed whose
 * prompt gets a context-length 400 leaves the batch running with that seed's turns invalid.
 */
import { accountingProblems, runLlmAccounting } from '../../scripts/bench/llm-accounting';
import { workflowBundle } from '../helpers/temporal';

test("no n, M = 16, 30% 429s: paid within 15% of kept; a context-length 400 invalidates that seed's turns only", async () => {
  const r = await runLlmAccounting({ seeds: 2, turns: 2, attempts: 16, rate429: 0.3, seed: 2, workflowBundle: await workflowBundle() });
  expect(accountingProblems(r)).toEqual([]);
  expect(r.batch).toMatchObject({ started: 3, finished: 3, failed: 0, paused: false });
  expect(r.student.kept % 16).toBe(0);
  expect(r.student.kept).toBeGreaterThan(0);
  expect(r.student.requests['429'] ?? 0).toBeGreaterThan(0); // the faults really happened
  expect(r.longSeed).toHaveLength(2);
}, 300_000);
