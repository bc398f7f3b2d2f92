/**
 * Layout: a file's base name (without .ts/.py) says which file it is, so a search, an editor tab
 * or a stack trace never needs the folder to tell two apart. index.ts and *.test.ts are exempt
 * (their folder is their name), and so is a .ts/.py pair in one folder (dedup.ts runs dedup.py:
 * one unit, two languages).
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const ROOMS = ['workflows', 'activities', 'workers', 'db', 'scripts', 'tests'];
const SKIP_DIRS = new Set(['node_modules', '__pycache__']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...sourceFiles(rel));
    } else if (/\.(ts|py)$/.test(entry.name) && entry.name !== 'index.ts' && !entry.name.endsWith('.test.ts')) {
      out.push(rel);
    }
  }
  return out;
}

/** `name: path, path` for every base name held by files in more than one folder. */
function clashes(files: string[]): string[] {
  const byName = new Map<string, string[]>();
  for (const f of files) {
    const name = path.posix.basename(f).replace(/\.(ts|py)$/, '');
    byName.set(name, [...(byName.get(name) ?? []), f]);
  }
  return [...byName]
    .filter(([, paths]) => new Set(paths.map((p) => path.posix.dirname(p))).size > 1)
    .map(([name, paths]) => `${name}: ${paths.sort().join(', ')}`)
    .sort();
}

test('the scan sees the source tree', () => {
  const files = ROOMS.flatMap(sourceFiles);
  expect(files).toEqual(expect.arrayContaining(['workflows/seed-workflow.ts', 'activities/sandbox/driver.py', 'tests/helpers/db.ts']));
  expect(files).not.toContain('tests/unit/layout.test.ts');
  expect(files.length).toBeGreaterThan(100);
});

test('no two source files share a base name', () => {
  expect(clashes(ROOMS.flatMap(sourceFiles))).toEqual([]);
});

test('a clash names every path that holds the name', () => {
  expect(clashes(['a/compare.ts', 'b/c/compare.ts', 'a/dedup.ts', 'a/dedup.py', 'd/compare.py'])).toEqual([
    'compare: a/compare.ts, b/c/compare.ts, d/compare.py',
  ]);
});
