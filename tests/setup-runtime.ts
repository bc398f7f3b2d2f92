/** Keeps Temporal's worker logs to errors so test output stays readable. */
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger(process.env.CAIRN_TEST_LOG === '1' ? 'WARN' : 'ERROR') });
} catch {
  // Already installed in this process by an earlier test file.
}
