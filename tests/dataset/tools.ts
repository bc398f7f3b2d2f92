/**
 * Outside tools the dataset tests use for real: a Python venv with pyarrow and Hugging Face
 * `datasets` (to load the Parquet file as a user would), and headless Chromium (to render the
 * report). Missing tools fail the test with what to install; nothing is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const TOOLS = process.env.CAIRN_TOOLS_DIR ? path.resolve(process.env.CAIRN_TOOLS_DIR) : path.join(ROOT, '.tools');
export const PYENV = path.join(TOOLS, 'pyenv-test');
const REQUIREMENTS = ['pyarrow>=14', 'datasets>=2.18'];

/**
 * The venv's python, made once and cached under .tools/pyenv-test (a marker file records what was
 * installed; pip's own cache makes a rebuild quick).
 */
export function testPython(): string {
  const py = path.join(PYENV, 'bin', 'python');
  const marker = path.join(PYENV, '.cairn-requirements');
  if (fs.existsSync(py) && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === REQUIREMENTS.join('\n')) return py;
  const base = ['/usr/bin/python3', 'python3'].find(
    (p) => spawnSync(p, ['-c', 'import venv, ensurepip'], { stdio: 'ignore' }).status === 0,
  );
  if (!base)
    throw new Error(
      'The Parquet test needs python3 with venv and ensurepip (apt-get install -y python3 python3-venv) to load the file with pyarrow and Hugging Face datasets.',
    );
  fs.rmSync(PYENV, { recursive: true, force: true });
  fs.mkdirSync(TOOLS, { recursive: true });
  const mk = spawnSync(base, ['-m', 'venv', PYENV], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`\`${base} -m venv ${PYENV}\` failed: ${mk.stderr.trim()}`);
  const pip = spawnSync(path.join(PYENV, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', ...REQUIREMENTS], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (pip.status !== 0) {
    throw new Error(
      `pip could not install ${REQUIREMENTS.join(' ')} into ${PYENV} (needed to check the Parquet file with pyarrow and datasets): ${(pip.stderr || String(pip.error)).trim().split('\n').slice(-4).join('\n')}`,
    );
  }
  fs.writeFileSync(marker, REQUIREMENTS.join('\n'));
  return py;
}

/** Runs a Python script in the test venv, offline for Hugging Face, and parses its JSON output. */
export function runPythonJson<T>(script: string, args: string[]): T {
  const hf = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-hf-'));
  try {
    const r = spawnSync(testPython(), ['-c', script, ...args], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 120_000,
      env: {
        ...process.env,
        HF_HOME: hf,
        HF_DATASETS_CACHE: path.join(hf, 'datasets'),
        HF_DATASETS_OFFLINE: '1',
        HF_HUB_OFFLINE: '1',
        HF_HUB_DISABLE_TELEMETRY: '1',
      },
    });
    if (r.status !== 0)
      throw new Error(`python failed (${r.status ?? r.signal ?? r.error}): ${r.stderr.trim().split('\n').slice(-12).join('\n')}`);
    return JSON.parse(r.stdout) as T;
  } finally {
    fs.rmSync(hf, { recursive: true, force: true });
  }
}

export function chromiumPath(): string {
  const found = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && fs.existsSync(p));
  if (!found)
    throw new Error(
      'The report test renders the page in headless Chromium, which is not installed: apt-get install -y chromium (or set CHROMIUM=/path/to/chromium).',
    );
  return found;
}

/** Headless Chromium on a local file: the DOM it rendered, and a screenshot when `png` is given. */
export function renderPage(htmlFile: string, png?: string): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-chromium-'));
  const common = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
  ];
  const url = `file://${path.resolve(htmlFile)}`;
  try {
    const dom = execFileSync(chromiumPath(), [...common, '--dump-dom', url], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    if (png)
      execFileSync(chromiumPath(), [...common, '--window-size=1200,2400', `--screenshot=${png}`, url], {
        timeout: 60_000,
        stdio: 'ignore',
      });
    return dom;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}
