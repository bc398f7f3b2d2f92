import { Command } from 'commander';
import { loadConfig } from '../../workers/config/load-config';
import { requireDatabaseUrl } from '../../workers/config/find-postgres';
import { ALL_QUEUES, startWorkers } from '../../workers/start-workers';
import type { QueueName } from '../../workflows/contracts';
import { fail } from './options';

function parseQueues(v: string): QueueName[] {
  if (v === 'all') return ALL_QUEUES;
  const qs = v.split(',').map((s) => s.trim());
  const bad = qs.filter((q) => !ALL_QUEUES.includes(q as QueueName));
  if (bad.length) throw new Error(`--queue ${bad.join(',')}: unknown queue; choose from ${ALL_QUEUES.join(', ')} or all.`);
  return qs as QueueName[];
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('run Temporal workers (one per task queue) until SIGINT/SIGTERM')
    .option('--queue <names>', `comma-separated queues: ${ALL_QUEUES.join(', ')}, or all`, 'all')
    .action(async (o: { queue: string }) => {
      try {
        const cfg = loadConfig();
        const queues = parseQueues(o.queue);
        const databaseUrl = await requireDatabaseUrl(cfg);
        const set = await startWorkers({ cfg, databaseUrl, queues, log: (m) => console.log(`[worker] ${m}`) });
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => set.shutdown());
        // Started by `cairn dev`: stop when it goes away, so no orphan keeps polling.
        const onDisconnect = (): void => set.shutdown();
        if (process.send) process.once('disconnect', onDisconnect);
        await set.run();
        await set.close();
        // A 'disconnect' listener holds the IPC channel open, which would keep a stopped worker
        // alive until its parent SIGKILLs it: let go of it.
        process.off('disconnect', onDisconnect);
        if (process.connected) process.disconnect();
        console.log('[worker] stopped');
      } catch (err) {
        fail(err);
      }
    });
}
