/**
 * Server-side rate limits per task queue (the first of Cairn's three rate-limit layers): a
 * requests/s cap on a queue's activities, enforced by the Temporal server for every worker at once
 * and changeable while the system runs.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TASK_QUEUES, type QueueName } from '../../workflows/contracts';

const ACTIVITY = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;

export function queueName(q: string): string {
  const name = (TASK_QUEUES as Record<string, string>)[q];
  if (!name)
    throw new Error(
      `--queue ${q}: unknown queue; choose from ${Object.keys(TASK_QUEUES)
        .filter((k) => k !== 'orchestration')
        .join(', ')}.`,
    );
  return name;
}

/** Sets (rps = number) or clears (rps = null) the queue's activity rate limit. */
export async function setQueueRps(client: Client, namespace: string, q: QueueName, rps: number | null): Promise<void> {
  await client.workflowService.updateTaskQueueConfig({
    namespace,
    identity: 'cairn limits',
    taskQueue: queueName(q),
    taskQueueType: ACTIVITY,
    updateQueueRateLimit: { rateLimit: rps === null ? null : { requestsPerSecond: rps }, reason: `cairn limits set (${rps ?? 'default'})` },
  });
}

/** The queue's current activity rate limit (null: the server default, no cap set by Cairn). */
export async function getQueueRps(client: Client, namespace: string, q: QueueName): Promise<number | null> {
  const res = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: queueName(q) },
    taskQueueType: ACTIVITY,
    reportConfig: true,
  });
  const rl = res.config?.queueRateLimit?.rateLimit;
  return rl ? (rl.requestsPerSecond ?? 0) : null;
}
