/**
 * Workers record what they actually used for a batch (model, endpoint host, sampling extras;
 * sandbox limits and mode), once per process and batch, so a dataset says how it was made even
 * when workers on different hosts were configured differently. Never a secret: API keys are not
 * in the details.
 */
import os from 'node:os';
import type { Database } from '../db/client';
import { recordProvenance } from '../db/queries/provenance';

export type ProvenanceRecorder = (batchId: string) => Promise<void>;

export function provenanceRecorder(db: Database, role: string, details: Record<string, unknown>): ProvenanceRecorder {
  const done = new Set<string>();
  return async (batchId) => {
    if (done.has(batchId)) return;
    await recordProvenance(db, { batchId, role, details, host: os.hostname() });
    done.add(batchId);
  };
}

/** The host (and port) of an endpoint URL, without credentials or path. */
export function endpointHost(baseURL: string): string {
  try {
    return new URL(baseURL).host;
  } catch {
    return '<unparseable base URL>';
  }
}
