/** Free slots in the window (never negative: a shrunk window just stops new starts). */
export function windowCapacity(open: number, window: number): number {
  return Math.max(0, window - open);
}
