/** Search attributes (registered on the dev server at start; `cairn setup` docs for a cluster). */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA = {
  batchId: defineSearchAttributeKey('BatchId', SearchAttributeType.KEYWORD),
  seedId: defineSearchAttributeKey('SeedId', SearchAttributeType.KEYWORD),
  env: defineSearchAttributeKey('Env', SearchAttributeType.KEYWORD),
  turn: defineSearchAttributeKey('Turn', SearchAttributeType.INT),
  phase: defineSearchAttributeKey('Phase', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD),
  passRate: defineSearchAttributeKey('PassRate', SearchAttributeType.DOUBLE),
  /** A batch workflow's state (BatchState below), so the UI's list and `batch list` show a paused or self-stopped batch. */
  batchState: defineSearchAttributeKey('BatchState', SearchAttributeType.KEYWORD),
};

/**
 * running; paused (by `cairn batch pause`); stopped (it paused itself: an endpoint rejected a
 * request, see its current details); cancelled; finished.
 */
export type BatchState = 'running' | 'paused' | 'stopped' | 'cancelled' | 'finished';
export const SEARCH_ATTRIBUTES = Object.values(SA);
