/** Deterministic ids: the natural keys that make every start and write safe to repeat. */

/** `batch/<batchId>`: one BatchWorkflow per batch. */
export function batchWorkflowId(batchId: string): string {
  return `batch/${batchId}`;
}

/** `seed/<batchId>/<seedId>`: one SeedWorkflow per seed of a batch. */
export function seedWorkflowId(batchId: string, seedId: string): string {
  return `seed/${batchId}/${seedId}`;
}

/** A problem's natural key: one per seed and turn. */
export function problemKey(batchId: string, seedId: string, turn: number): string {
  return `${batchId}/${seedId}/t${turn}`;
}
