/** `cairn limits`: the server-side rate cap of a queue, set and cleared on a real dev server. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { getQueueRps, queueName, setQueueRps } from '../../scripts/lib/queue-limits';
import { startTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTestEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

test('sets, reads and clears the teacher queue rate limit', async () => {
  const ns = env.namespace ?? 'default';
  expect(await getQueueRps(env.client, ns, 'teacher')).toBeNull();
  await setQueueRps(env.client, ns, 'teacher', 2.5);
  expect(await getQueueRps(env.client, ns, 'teacher')).toBe(2.5);
  expect(await getQueueRps(env.client, ns, 'student')).toBeNull();
  await setQueueRps(env.client, ns, 'teacher', null);
  expect(await getQueueRps(env.client, ns, 'teacher')).toBeNull();
  expect(() => queueName('nope')).toThrow(/unknown queue; choose from teacher, student, grader/);
});
