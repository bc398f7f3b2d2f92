/**
 * How an activity reads a batch setting: the batch's typed record, parsed once per process
 * (settings never change after the batch starts). A missing or damaged record is a deterministic
 * failure, so it is non-retryable: retrying would fail the same way for ever.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '../db/client';
import { getBatch } from '../db/queries/batches';
import { ERR, parseBatchSettings, type BatchSettings } from '../workflows/contracts';

export type SettingsReader = (batchId: string) => Promise<BatchSettings>;

export function settingsReader(db: Database): SettingsReader {
  const cache = new Map<string, BatchSettings>();
  return async (batchId) => {
    const hit = cache.get(batchId);
    if (hit) return hit;
    const row = await getBatch(db, batchId);
    if (!row) {
      throw ApplicationFailure.create({
        type: ERR.badBatch,
        nonRetryable: true,
        message: `batch ${batchId} is not in Postgres (was it started against another DATABASE_URL?)`,
      });
    }
    let s: BatchSettings;
    try {
      s = parseBatchSettings(row.settings, batchId);
    } catch (err) {
      throw ApplicationFailure.create({ type: ERR.badBatch, nonRetryable: true, message: (err as Error).message, cause: err as Error });
    }
    cache.set(batchId, s);
    return s;
  };
}
