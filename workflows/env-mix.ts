/** Which environment a seed of a mixed batch gets: a pure function of its id, so every run agrees. */

/** Deterministic weighted choice of a seed's environment from its id (FNV-1a; no randomness in workflows). */
export function pickWeighted<K extends string>(key: string, weights: Partial<Record<K, number>>): K {
  const entries = (Object.entries(weights) as [K, number][]).filter(([, w]) => w > 0).sort(([a], [b]) => (a < b ? -1 : 1));
  if (entries.length === 0) throw new Error('no environment has a positive weight');
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  // murmur3's finalizer: FNV alone leaves the high bits of short, similar ids poorly mixed.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  const total = entries.reduce((t, [, w]) => t + w, 0);
  let x = (h / 2 ** 32) * total;
  for (const [k, w] of entries) {
    if (x < w) return k;
    x -= w;
  }
  return entries[entries.length - 1]![0];
}
