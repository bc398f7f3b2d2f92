/**
 * Contamination by n-gram overlap: a problem is contaminated when it shares most of its code
 * n-grams (or of its text's word n-grams) with one benchmark item, or contains most of the item's.
 * Overlap is containment, |P ∩ B| / min(|P|, |B|), so a benchmark solution pasted into a longer
 * function is caught as well as a trimmed copy; at least MIN_SHARED n-grams must be shared, so two
 * short snippets do not match on one common idiom.
 */
export const CODE_N = 10;
export const TEXT_N = 8;
export const MIN_SHARED = 3;
export const DEFAULT_THRESHOLD = 0.5;

export interface BenchmarkItem {
  benchmark: string;
  id: string;
  code: Set<string>;
  text: Set<string>;
}
export interface Contamination {
  benchmark: string;
  item: string;
  overlap: number;
  kind: 'code' | 'text';
}

/** Code tokens: names and numbers lowercased, every other non-space character on its own; comments dropped. */
export function codeTokens(src: string): string[] {
  return (
    src
      .replace(/#[^\n]*/g, '')
      .toLowerCase()
      .match(/[a-z_][a-z0-9_]*|\d+(?:\.\d+)?|\S/g) ?? []
  );
}

export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

export function shingles(tokens: readonly string[], n: number): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + n <= tokens.length; i++) out.add(tokens.slice(i, i + n).join(' '));
  return out;
}

function containment(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const g of small) if (big.has(g)) shared++;
  return shared < MIN_SHARED ? 0 : shared / small.size;
}

/**
 * A benchmark item from its code and text. `entry`: the item's function name, written as `f`
 * (Cairn's problems always call it f, so a renamed copy still matches).
 */
export function benchmarkItem(benchmark: string, id: string, code: string, text: string, entry?: string): BenchmarkItem {
  const renamed = entry ? code.replace(new RegExp(`\\b${entry.replace(/[^\w]/g, '')}\\b`, 'g'), 'f') : code;
  return { benchmark, id, code: shingles(codeTokens(renamed), CODE_N), text: shingles(words(text), TEXT_N) };
}

/** The benchmark item the problem overlaps most, if that overlap reaches the threshold. */
export function contamination(
  p: { code: string; message: string | null },
  items: readonly BenchmarkItem[],
  threshold = DEFAULT_THRESHOLD,
): Contamination | null {
  const code = shingles(codeTokens(p.code), CODE_N);
  const text = shingles(words(p.message ?? ''), TEXT_N);
  let best: Contamination | null = null;
  for (const it of items) {
    for (const [kind, o] of [
      ['code', containment(code, it.code)],
      ['text', containment(text, it.text)],
    ] as const) {
      if (o >= threshold && (!best || o > best.overlap)) best = { benchmark: it.benchmark, item: it.id, overlap: o, kind };
    }
  }
  return best;
}
