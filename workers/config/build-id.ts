/**
 * Worker Versioning: which deployment a worker belongs to and which build it is. The build id is
 * CAIRN_BUILD_ID, else `<package version>-<git sha>` of the checkout, else the package version.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function gitSha(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null; // not a checkout (an npm pack, a container without .git): the version alone
  }
}

let cached: string | undefined;
export function buildId(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CAIRN_BUILD_ID) return env.CAIRN_BUILD_ID;
  cached ??= [packageVersion(), gitSha()].filter(Boolean).join('-');
  return cached;
}
