/**
 * Cairn's client library: what a user's own script imports to start, watch, control and export
 * batches (the `cairn` CLI is a thin shell over the same functions). See README "Using Cairn from
 * your own script".
 */
import type { Client } from '@temporalio/client';
import { createDb, migrateDb, type Database } from '../../db/client';
import { connectClient } from '../../workers/config/connect-temporal';
import { requireDatabaseUrl } from '../../workers/config/find-postgres';
import { loadConfig, type Config } from '../../workers/config/load-config';

export interface Cairn {
  cfg: Readonly<Config>;
  db: Database;
  /** A Temporal client on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (TEMPORAL_API_KEY for Temporal Cloud). */
  client: Client;
  close(): Promise<void>;
}

/**
 * Connects to Postgres (migrated) and Temporal with the same configuration the CLI reads
 * (environment variables, README "Configuration"). Call `close()` when done.
 */
export async function openCairn(env: NodeJS.ProcessEnv = process.env): Promise<Cairn> {
  const cfg = loadConfig(env);
  const url = await requireDatabaseUrl(cfg);
  const { db, pool } = createDb(url, { max: 4 });
  try {
    await migrateDb(db);
    const client = await connectClient(cfg);
    return {
      cfg,
      db,
      client,
      close: async () => {
        await client.connection.close();
        await pool.end();
      },
    };
  } catch (err) {
    await pool.end();
    throw err;
  }
}

export { loadConfig, type Config } from '../../workers/config/load-config';
export { newBatchId, startBatch, validateBatchOptions, defaultWindow, type StartBatchOptions } from './start-batch';
export { batchUpdate, cancelBatch, pauseBatch, resizeBatch, resumeBatch, runningBatchStates, waitForBatch } from './control';
export { formatCost, formatSettings, formatSummary, uiUrl } from './status-text';
export { cutSeeds, stdlibDir, writeSeedFile, type SeedRecord } from './seed-file';
export { preflight } from './preflight';
export { batchSummary, type BatchSummary } from '../../db/queries/stats';
export { seedCounts } from '../../db/queries/batches';
export { listProvenance } from '../../db/queries/provenance';
export { exportBatch, type ExportOptions, type ExportResult } from '../dataset/exporter';
export { writeReport } from '../report/model';
export {
  BatchSettingsError,
  batchSettingsFrom,
  parseBatchSettings,
  parseChainBinsSpec,
  parseEnvSpec,
  type BatchOptions,
  type BatchSettings,
  type BatchProgress,
  type EnvName,
  type Mode,
} from '../../workflows/contracts';
