/**
 * The README's library example is scripts/examples/my-run.ts, word for word (bar the import path):
 * `npm run typecheck` compiles that file against the real library, so a renamed export fails CI.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

test('README "Using Cairn from your own script" is scripts/examples/my-run.ts', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using Cairn from your own script'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code).toBeDefined();
  const file = fs
    .readFileSync(path.join(ROOT, 'scripts/examples/my-run.ts'), 'utf8')
    .replace(/^\/\*\*.*\*\/\n/, '')
    .replace("from '../lib'", "from './scripts/lib'");
  expect(code).toBe(file);
});

test('the example file is inside what `npm run typecheck` compiles', () => {
  const cfg = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] };
  expect(cfg.include).toContain('scripts');
  expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.typecheck).toMatch(/tsc\b/);
});
