/**
 * Two-way hint templates: the teacher writes `Phrase.write(values)` into its message and the
 * student reads the same template back with a `Scanner`. One table per family serves both sides,
 * so the student can only recover parameters the teacher actually stated in words.
 *
 * Template syntax: `{k}` is an integer, `{k:or}` / `{k:and}` an English list of integers
 * ("1, 3 or 4"). Matching ignores case and collapses whitespace.
 */
import { englishList } from './pyfmt';

export type Vals = Record<string, number | number[]>;

interface Slot {
  name: string;
  conj: string | null;
}

const PLACEHOLDER = /\{(\w+)(?::(\w+))?\}/g;
const INT = '-?\\d+';

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One fixed wording with integer slots. */
export class Phrase {
  private readonly slots: Slot[] = [];
  private readonly re: RegExp;

  constructor(readonly template: string) {
    let pattern = '';
    let last = 0;
    for (const m of template.matchAll(PLACEHOLDER)) {
      const at = m.index ?? 0;
      pattern += escapeRe(template.slice(last, at));
      const conj = m[2] ?? null;
      this.slots.push({ name: m[1] as string, conj });
      pattern += conj ? `(${INT}(?:(?:, | ${conj} )${INT})*)` : `(${INT})`;
      last = at + m[0].length;
    }
    pattern += escapeRe(template.slice(last));
    this.re = new RegExp(pattern, 'iy');
  }

  write(vals: Vals = {}): string {
    return this.template.replace(PLACEHOLDER, (_m, name: string, conj?: string) => {
      const v = vals[name];
      if (v === undefined) throw new Error(`Phrase "${this.template}": no value for {${name}}`);
      if (Array.isArray(v)) return englishList(v, conj ?? 'and');
      return String(v);
    });
  }

  /** Matches at `pos` exactly; returns the slot values and the end position. */
  matchAt(text: string, pos: number): { vals: Vals; end: number } | null {
    this.re.lastIndex = pos;
    const m = this.re.exec(text);
    if (!m) return null;
    const vals: Vals = {};
    this.slots.forEach((slot, i) => {
      const raw = m[i + 1] ?? '';
      vals[slot.name] = slot.conj ? raw.split(/, | \w+ /).map(Number) : Number(raw);
    });
    return { vals, end: pos + m[0].length };
  }
}

/** Thrown inside a parse when the text does not follow the template. */
class NoMatch extends Error {}

/** Sequential reader over a normalised message. */
export class Scanner {
  private readonly text: string;
  private pos = 0;

  constructor(text: string) {
    this.text = text.replace(/\s+/g, ' ').trim();
  }

  /** Consumes `s` (case-insensitive) or fails the parse. */
  lit(s: string): void {
    if (!this.peekLit(s)) throw new NoMatch(`expected "${s}" at ${this.pos}`);
    this.pos += s.length;
  }

  /** Consumes `s` if it is next. */
  maybeLit(s: string): boolean {
    if (!this.peekLit(s)) return false;
    this.pos += s.length;
    return true;
  }

  private peekLit(s: string): boolean {
    return this.text.slice(this.pos, this.pos + s.length).toLowerCase() === s.toLowerCase();
  }

  /** Longest-matching option wins, so one wording may be a prefix of another. */
  choose<K extends string>(options: Readonly<Record<K, Phrase>>): [K, Vals] {
    let best: { key: K; vals: Vals; end: number } | null = null;
    for (const key of Object.keys(options) as K[]) {
      const m = options[key].matchAt(this.text, this.pos);
      if (m && (!best || m.end > best.end)) best = { key, ...m };
    }
    if (!best) throw new NoMatch(`no option matches at ${this.pos}`);
    this.pos = best.end;
    return [best.key, best.vals];
  }

  /** An optional phrase: its values, or null when it is absent. */
  maybe(p: Phrase): Vals | null {
    const m = p.matchAt(this.text, this.pos);
    if (!m) return null;
    this.pos = m.end;
    return m.vals;
  }

  done(): void {
    if (this.pos !== this.text.length) throw new NoMatch(`trailing text at ${this.pos}`);
  }
}

/** Runs a template parse; any mismatch (or malformed number) gives null. */
export function tryParse<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NoMatch) return null;
    throw e;
  }
}

/** Reads an integer slot (fails the parse if absent or not finite). */
export function num(v: Vals | null, key: string): number {
  const x = v?.[key];
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new NoMatch(`slot ${key}`);
  return x;
}

/** Reads a list slot. */
export function list(v: Vals | null, key: string): number[] {
  const x = v?.[key];
  if (!Array.isArray(x) || x.some((n) => !Number.isFinite(n))) throw new NoMatch(`slot ${key}`);
  return x;
}

/** Fails the parse when a recovered value is outside the family's range. */
export function check(ok: boolean, what: string): void {
  if (!ok) throw new NoMatch(what);
}

/** Shorthand for a table of phrases keyed by option name. */
export function phrases<K extends string>(t: Readonly<Record<K, string>>): Readonly<Record<K, Phrase>> {
  const out = {} as Record<K, Phrase>;
  for (const k of Object.keys(t) as K[]) out[k] = new Phrase(t[k]);
  return out;
}
