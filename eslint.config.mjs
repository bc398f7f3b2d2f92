// Lint guards (conventions.md): workflow code stays deterministic and free of I/O clients, imports
// point down the layers (never up, never in a circle). Layout is prettier's: no rule here fights it
// (add eslint-config-prettier last if a stylistic rule ever comes in).
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

// Which rooms may not import which (paths from the repository root; `except` is relative to `from`).
// `.` means "anything in the repository"; npm packages (node_modules) are handled per room below.
const zones = [
  {
    target: 'workflows',
    from: '.',
    except: ['./workflows', './activities', './node_modules'],
    message: 'Workflows see ids and numbers: they import only workflows/ files (and `import type` of activities).',
  },
  {
    target: ['workflows/contracts', 'workflows/method'],
    from: '.',
    except: ['./workflows/contracts', './workflows/method', './node_modules'],
    message: 'Contracts and the method are imported by every side, so they import only each other.',
  },
  { target: 'db', from: ['activities', 'workers', 'scripts'], message: 'db/ sits below activities, workers and scripts.' },
  {
    target: 'activities',
    from: ['workers', 'scripts'],
    message: 'Activities get their deps injected: they never import workers or scripts.',
  },
  { target: 'workers/config', from: 'workers', except: ['./config'], message: 'Config and connectors sit below the composition root.' },
  { target: 'workers/config', from: ['activities', 'scripts'], message: 'Config and connectors import neither activities nor scripts.' },
  {
    // scripts/cairn.js (the launcher) is plain JS and not linted.
    target: ['workflows', 'activities', 'workers', 'db', 'scripts/!(cli)/**', '*.ts'],
    from: 'scripts/cli',
    message: 'Only the CLI imports the CLI: move what is shared into scripts/lib (or the room it belongs to).',
  },
  {
    target: 'scripts/sim',
    from: '.',
    except: ['./scripts/sim', './node_modules'],
    message: 'The simulator is a product of its own: it imports only its own files, Node builtins and npm packages.',
  },
  { target: ['workflows', 'activities', 'workers', 'db', 'scripts'], from: 'tests', message: 'Only tests import tests.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tools/**', 'out/**', 'db/migrations/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Type-only imports are erased, so only value imports can form a cycle.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Relative imports are checked by the zones above; of npm, only the workflow-safe SDK parts.
              regex: '^(?!\\.|@temporalio/(workflow|common)(/|$))',
              message:
                'Workflow code must stay deterministic: only @temporalio/workflow and @temporalio/common (no Node builtins or I/O clients).',
            },
            {
              regex: '^(\\.\\./)+activities(/|$)',
              allowTypeImports: true,
              message: 'Import activities with `import type` only.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Date', message: 'Use workflow time (Date is replay-safe only via the SDK; prefer sleep/condition).' },
      ],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Non-deterministic in workflows.' }],
      'no-console': 'error',
    },
  },
);
