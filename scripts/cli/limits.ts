import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../workers/config/load-config';
import type { QueueName } from '../../workflows/contracts';
import { getQueueRps, setQueueRps } from '../lib/queue-limits';
import { fail, withClient } from './options';

const QUEUES: QueueName[] = ['teacher', 'student', 'grader'];

function rpsArg(v: string): number | null {
  if (v === 'default') return null;
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`--rps must be a number > 0, or "default" to remove the cap (got ${v}).`);
  return n;
}

export function limitsCommand(): Command {
  const set = new Command('set')
    .description("cap a queue's activities per second on the Temporal server (all workers at once; takes effect while running)")
    .requiredOption('--queue <q>', QUEUES.join(' | '))
    .requiredOption('--rps <n>', 'requests per second, or "default" to remove the cap', rpsArg)
    .action(async (o: { queue: string; rps: number | null }) => {
      try {
        const cfg = loadConfig();
        await withClient(cfg, async (client) => {
          await setQueueRps(client, cfg.temporal.namespace, o.queue as QueueName, o.rps);
          const now = await getQueueRps(client, cfg.temporal.namespace, o.queue as QueueName);
          console.log(`${o.queue}: ${now === null ? 'no rate cap (server default)' : `${now} activities/s`}`);
        });
      } catch (err) {
        fail(err);
      }
    });
  const show = new Command('show').description('the rate caps of the LLM and grader queues').action(async () => {
    try {
      const cfg = loadConfig();
      await withClient(cfg, async (client) => {
        for (const q of QUEUES) {
          const rps = await getQueueRps(client, cfg.temporal.namespace, q);
          console.log(
            `${q.padEnd(8)} ${rps === null ? 'no rate cap' : `${rps} activities/s`}; concurrency per worker process: ${q === 'grader' ? `CAIRN_SANDBOX_SLOTS=${cfg.sandbox.slots}` : `CAIRN_${q.toUpperCase()}_CONCURRENCY=${q === 'teacher' ? cfg.teacher.concurrency : cfg.student.concurrency}`}`,
          );
        }
      });
    } catch (err) {
      fail(err);
    }
  });
  return new Command('limits')
    .description('rate limits per endpoint: server-side requests/s per task queue')
    .addCommand(set)
    .addCommand(show);
}
