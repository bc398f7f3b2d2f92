import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from './load-config';

/** Connection options from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY (Temporal Cloud: API key + TLS). */
function connOpts(cfg: Pick<Config, 'temporal'>) {
  return { address: cfg.temporal.address, tls: cfg.temporal.tls ? {} : undefined, apiKey: cfg.temporal.apiKey };
}

export class TemporalUnreachable extends Error {
  override name = 'TemporalUnreachable';
}

function unreachable(cfg: Pick<Config, 'temporal'>, err: unknown): TemporalUnreachable {
  return new TemporalUnreachable(
    `Cannot reach Temporal at ${cfg.temporal.address} (namespace ${cfg.temporal.namespace}): ${(err as Error).message}.\n` +
      'Start the embedded stack with `npx cairn dev` in another terminal, or set TEMPORAL_ADDRESS (and TEMPORAL_API_KEY for Temporal Cloud).',
  );
}

export async function connectClient(cfg: Pick<Config, 'temporal'>): Promise<Client> {
  try {
    const connection = await Connection.connect({ ...connOpts(cfg), connectTimeout: '5s' });
    return new Client({ connection, namespace: cfg.temporal.namespace });
  } catch (err) {
    throw unreachable(cfg, err);
  }
}

export async function connectWorker(cfg: Pick<Config, 'temporal'>): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(connOpts(cfg));
  } catch (err) {
    throw unreachable(cfg, err);
  }
}
