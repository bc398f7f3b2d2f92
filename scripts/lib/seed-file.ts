/**
 * Seed files (JSONL: one {"id", "snippet", "kind"?, "source"?} per line) and `cairn seeds cut`,
 * which cuts 25-50-line spans at random from a directory of source files (method.md "Seeds").
 */
import fs from 'node:fs';
import path from 'node:path';

export interface SeedRecord {
  id: string;
  snippet: string;
  kind: string;
  source: string | null;
}

export class SeedFileError extends Error {
  override name = 'SeedFileError';
}

const ID_RE = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Parses one line of a seed file; `where` is `file:line` for the error. */
export function parseSeedLine(line: string, n: number, where: string): SeedRecord {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new SeedFileError(
      `${where}: not valid JSON (${(e as Error).message}). Each line must be an object like {"id":"s1","snippet":"def f(x): ..."}.`,
    );
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new SeedFileError(`${where}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : typeof v}.`);
  const o = v as Record<string, unknown>;
  const snippet = o.snippet ?? o.code;
  if (typeof snippet !== 'string' || snippet.trim() === '')
    throw new SeedFileError(`${where}: needs a non-empty "snippet" string (the seed code).`);
  const id = o.id === undefined ? `line${n}` : String(o.id);
  if (!ID_RE.test(id)) throw new SeedFileError(`${where}: id ${JSON.stringify(id)} may use only letters, digits and _.:- (at most 200).`);
  return { id, snippet, kind: typeof o.kind === 'string' ? o.kind : 'snippet', source: typeof o.source === 'string' ? o.source : null };
}

/** Small deterministic PRNG (mulberry32) so `--seed` reproduces a cut. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function listFiles(dir: string, ext: string, acc: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === '__pycache__' || e.name === 'site-packages') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listFiles(p, ext, acc);
    else if (e.isFile() && e.name.endsWith(ext)) acc.push(p);
  }
  return acc;
}

export interface CutOptions {
  from: string;
  count: number;
  minLines: number;
  maxLines: number;
  seed: number;
  ext: string;
}

/** Cuts `count` spans of minLines..maxLines consecutive non-trivial lines from files under `from`. */
export function cutSeeds(o: CutOptions): SeedRecord[] {
  if (!fs.existsSync(o.from) || !fs.statSync(o.from).isDirectory()) throw new SeedFileError(`--from ${o.from} is not a directory.`);
  if (o.minLines < 1 || o.maxLines < o.minLines)
    throw new SeedFileError(`--min-lines/--max-lines: need 1 <= min <= max (got ${o.minLines}, ${o.maxLines}).`);
  const files = listFiles(o.from, o.ext);
  if (files.length === 0) throw new SeedFileError(`No ${o.ext} files under ${o.from}.`);
  const rand = rng(o.seed);
  const out: SeedRecord[] = [];
  for (let tries = 0; out.length < o.count && tries < o.count * 50; tries++) {
    const file = files[Math.floor(rand() * files.length)] as string;
    let lines: string[];
    try {
      lines = fs.readFileSync(file, 'utf8').split('\n');
    } catch {
      continue;
    }
    const len = o.minLines + Math.floor(rand() * (o.maxLines - o.minLines + 1));
    if (lines.length < len) continue;
    const start = Math.floor(rand() * (lines.length - len + 1));
    const span = lines.slice(start, start + len);
    // Skip spans that are mostly blank, comments or docstrings: the teacher needs logic to build on.
    const code = span.filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    if (code.length < len * 0.6 || !span.some((l) => /\b(def|for|while|if|return)\b/.test(l))) continue;
    const rel = path.relative(o.from, file);
    out.push({
      id: `s${String(out.length + 1).padStart(5, '0')}`,
      kind: 'snippet',
      source: `${rel}:${start + 1}-${start + len}`,
      snippet: span.join('\n'),
    });
  }
  if (out.length < o.count)
    throw new SeedFileError(`Only ${out.length} of ${o.count} usable spans found under ${o.from}; lower --count or --min-lines.`);
  return out;
}

export function writeSeedFile(file: string, seeds: SeedRecord[]): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, seeds.map((s) => JSON.stringify(s)).join('\n') + '\n');
}

/** The Python standard library on this machine: the embedded default seed corpus. */
export function stdlibDir(): string {
  for (const d of ['/usr/lib/python3.11', '/usr/lib/python3']) if (fs.existsSync(path.join(d, 'json'))) return d;
  const found = fs
    .readdirSync('/usr/lib')
    .filter((n) => /^python3\.\d+$/.test(n))
    .sort()
    .pop();
  if (!found) throw new SeedFileError('No Python standard library under /usr/lib; pass --from DIR with source files.');
  return path.join('/usr/lib', found);
}
