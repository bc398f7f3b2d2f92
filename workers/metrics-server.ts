/**
 * The Prometheus endpoint of a worker process (CAIRN_METRICS_PORT): one port, one `/metrics`,
 * serving Temporal's runtime metrics (`temporal_*`: slots, polls, task latencies, from the SDK's
 * core exporter) and Cairn's own (`cairn_*`, plus process metrics, from prom-client). Core's exporter
 * listens on a loopback port of its own; this server fetches it on each scrape and appends Cairn's.
 */
import http from 'node:http';
import net from 'node:net';
import { Runtime } from '@temporalio/worker';
import { cairnRegistry, collectProcessMetrics } from '../activities/cairn-metrics';

export interface MetricsServer {
  /** The port Prometheus scrapes (the one asked for, or the one picked for 0). */
  port: number;
  /** Core's own exporter (loopback only), for reference. */
  corePort: number;
  close(): Promise<void>;
}

/** A free loopback TCP port (the OS picks it; another process could in theory take it before core binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Installs the Temporal runtime with core's Prometheus exporter, then serves both metric sets on
 * `port` (all interfaces; 0 picks a free one). Must run before this process opens any Temporal
 * connection: the runtime is created once per process.
 */
export async function startMetricsServer(opts: { port: number; host?: string }): Promise<MetricsServer> {
  const corePort = await freePort();
  Runtime.install({
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${corePort}`, countersTotalSuffix: true } } },
  });
  collectProcessMetrics();
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Cairn worker metrics are at /metrics\n');
      return;
    }
    void (async () => {
      let core: string;
      try {
        const r = await fetch(`http://127.0.0.1:${corePort}/metrics`, { signal: AbortSignal.timeout(5000) });
        core = r.ok ? await r.text() : `# temporal core exporter answered ${r.status}\n`;
      } catch (err) {
        core = `# temporal core exporter unreachable: ${(err as Error).message}\n`;
      }
      const own = await cairnRegistry.metrics();
      res.writeHead(200, { 'content-type': cairnRegistry.contentType });
      res.end(`${core.endsWith('\n') || core === '' ? core : `${core}\n`}${own}`);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`metrics failed: ${(err as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    corePort,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
