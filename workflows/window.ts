/** Free slots in the window (never negative: a shrunk window just stops new starts). */
export function windowCapacity(open: number, window: number): number {
  return Math.max(0, window - open);
}

/**
 * How many ids go in one workflow task or one payload, whatever the window: seeds paged and started
 * at once, cancel requests in flight, ids per reconcile call, ids per snapshot write/read.
 */
export const CHUNK = { start: 100, cancel: 500, reconcile: 2000, snapshot: 1000 } as const;

/** `ids` in consecutive slices of at most `size`. */
export function chunked<T>(ids: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}
