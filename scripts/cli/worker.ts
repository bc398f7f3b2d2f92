import { Command } from 'commander';
import { loadConfig } from '../../workers/config/load-config';
import { PostgresUnreachable, requireDatabaseUrl } from '../../workers/config/find-postgres';
import { TemporalUnreachable } from '../../workers/config/connect-temporal';
import { ALL_QUEUES, startWorkers } from '../../workers/start-workers';
import { startMetricsServer, type MetricsServer } from '../../workers/metrics-server';
import type { QueueName } from '../../workflows/contracts';
import { fail } from './options';

function parseQueues(v: string): QueueName[] {
  if (v === 'all') return [...ALL_QUEUES];
  const qs = v.split(',').map((s) => s.trim());
  const bad = qs.filter((q) => !ALL_QUEUES.includes(q as QueueName));
  if (bad.length) throw new Error(`--queue ${bad.join(',')}: unknown queue; choose from ${ALL_QUEUES.join(', ')} or all.`);
  return qs as QueueName[];
}

/**
 * Starts the workers, waiting with capped backoff while Temporal or Postgres cannot be reached (a
 * worker started during an outage or a restart waits instead of exiting). Other errors stop it.
 */
async function waitForServices<T>(stopped: () => boolean, start: () => Promise<T>): Promise<T | undefined> {
  for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof TemporalUnreachable || err instanceof PostgresUnreachable)) throw err;
      console.log(`[worker] waiting: ${err.message.split('\n')[0]}; retrying in ${delay / 1000} s`);
      for (let t = 0; t < delay && !stopped(); t += 250) await new Promise((r) => setTimeout(r, 250));
      if (stopped()) return undefined;
    }
  }
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('run Temporal workers (one per task queue) until SIGINT/SIGTERM')
    .option('--queue <names>', `comma-separated queues: ${ALL_QUEUES.join(', ')}, or all`, 'all')
    .action(async (o: { queue: string }) => {
      let stopping = false;
      const running: { set?: Awaited<ReturnType<typeof startWorkers>> } = {};
      const stop = () => {
        stopping = true;
        running.set?.shutdown();
      };
      // Started by `cairn dev`: stop when it goes away, so no orphan keeps polling.
      const onDisconnect = (): void => stop();
      let metrics: MetricsServer | undefined;
      try {
        const cfg = loadConfig();
        const queues = parseQueues(o.queue);
        // Before any Temporal connection: the runtime (with core's exporter) is created once per process.
        if (cfg.metricsPort !== null) {
          metrics = await startMetricsServer({ port: cfg.metricsPort });
          console.log(
            `[worker] metrics on http://0.0.0.0:${metrics.port}/metrics (Temporal core's exporter on 127.0.0.1:${metrics.corePort})`,
          );
        }
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, stop);
        if (process.send) process.once('disconnect', onDisconnect);
        const set = await waitForServices(
          () => stopping,
          async () => {
            const databaseUrl = await requireDatabaseUrl(cfg);
            return startWorkers({ cfg, databaseUrl, queues, log: (m) => console.log(`[worker] ${m}`) });
          },
        );
        if (!set) return;
        running.set = set;
        if (stopping) set.shutdown();
        await set.run();
        await set.close();
        console.log('[worker] stopped');
      } catch (err) {
        fail(err);
      } finally {
        await metrics?.close();
        // A 'disconnect' listener holds the IPC channel open, which would keep a stopped (or failed)
        // worker alive until its parent SIGKILLs it: let go of it.
        process.off('disconnect', onDisconnect);
        if (process.connected) process.disconnect();
      }
    });
}
