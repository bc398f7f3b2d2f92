// Lint guards (conventions.md): workflow code stays deterministic and free of I/O clients.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tools/**', 'out/**', 'db/migrations/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, 'pg', 'openai', 'drizzle-orm', '@temporalio/activity', '@temporalio/client', '@temporalio/worker']
          .map((name) => ({ name, message: 'Workflow code must stay deterministic: no Node builtins or I/O clients.' })),
        patterns: [
          { group: ['drizzle-orm/*', 'pg/*', 'openai/*'], message: 'No I/O clients in workflows.' },
          { group: ['../activities', '../activities/*', '../../activities/*'], allowTypeImports: true, message: 'Import activities with `import type` only.' },
          { group: ['../db/*', '../workers/*', '../scripts/*'], message: 'Workflows see ids and numbers, not databases or config.' },
        ],
      }],
      'no-restricted-globals': ['error', { name: 'Date', message: 'Use workflow time (Date is replay-safe only via the SDK; prefer sleep/condition).' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Non-deterministic in workflows.' }],
      'no-console': 'error',
    },
  },
);
