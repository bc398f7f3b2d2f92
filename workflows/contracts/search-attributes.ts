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
};
export const SEARCH_ATTRIBUTES = Object.values(SA);
