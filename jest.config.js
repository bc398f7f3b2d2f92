/**
 * Jest, fast tier (`npm test`, two workers): every test file but the slow tier's (jest.slow.config.js runs those).
 * swc transform (fast, no type-check: `npm run typecheck` does that).
 */
/** The slow tier, as globs (for its testMatch) and as the path patterns the fast tier ignores. */
const SLOW = {
  globs: [
    '<rootDir>/tests/chaos/**/*.test.ts',
    '<rootDir>/tests/batch/resume.test.ts',
    '<rootDir>/tests/bench/**/*.test.ts',
    '<rootDir>/tests/stack/dev-demo.test.ts',
    '<rootDir>/tests/e2e/trainer-export.test.ts',
    '<rootDir>/tests/e2e/llm-accounting.test.ts',
    '<rootDir>/tests/e2e/metrics.test.ts',
    '<rootDir>/tests/e2e/local-llm.test.ts',
    '<rootDir>/tests/e2e/budget.test.ts',
    '<rootDir>/tests/workflows/versioning.test.ts',
    '<rootDir>/tests/workflows/cancel-window.test.ts',
    '<rootDir>/tests/sandbox/kill9.test.ts',
  ],
  ignore: [
    '<rootDir>/tests/chaos/',
    '<rootDir>/tests/batch/resume\\.test\\.ts$',
    '<rootDir>/tests/bench/',
    '<rootDir>/tests/stack/dev-demo\\.test\\.ts$',
    '<rootDir>/tests/e2e/trainer-export\\.test\\.ts$',
    '<rootDir>/tests/e2e/llm-accounting\\.test\\.ts$',
    '<rootDir>/tests/e2e/metrics\\.test\\.ts$',
    '<rootDir>/tests/workflows/versioning\\.test\\.ts$',
    '<rootDir>/tests/workflows/cancel-window\\.test\\.ts$',
    '<rootDir>/tests/e2e/local-llm\\.test\\.ts$',
    '<rootDir>/tests/e2e/budget\\.test\\.ts$',
    '<rootDir>/tests/sandbox/kill9\\.test\\.ts$',
  ],
};

const base = {
  // Node's environment plus cleanup of what each test and file started, also after a timeout.
  testEnvironment: '<rootDir>/tests/cleanup-environment.js',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  testTimeout: 60000,
  globalSetup: '<rootDir>/tests/global-setup.ts',
  setupFiles: ['<rootDir>/tests/setup-runtime.ts'],
  reporters: ['default', '<rootDir>/tests/summary-reporter.js'],
};

module.exports = { ...base, testPathIgnorePatterns: ['/node_modules/', ...SLOW.ignore] };
Object.defineProperty(module.exports, 'slowTier', { value: { base, SLOW }, enumerable: false });
