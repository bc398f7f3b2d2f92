import { execFile } from 'child_process';
import { promises as fsp } from 'fs';
import type { Stats } from 'fs';
import path from 'path';
import { SandboxSetupError } from './sandbox-errors';

/** Debian's interpreter: the only one with python3-seccomp (and the fast one, see sandbox.md §2). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
const GENERATOR = path.join(__dirname, 'mkseccomp.py');

/**
 * Generates `<stateDir>/seccomp.bpf` (raw BPF for `bwrap --seccomp`) unless an up-to-date one
 * exists, and returns its path. Idempotent and safe to call concurrently: the generator writes
 * a temp file and renames it. Throws SandboxSetupError when python3-seccomp is not installed.
 */
export async function ensureSeccomp(stateDir: string): Promise<string> {
  const out = path.join(stateDir, 'seccomp.bpf');
  const [bpf, gen] = await Promise.all([statOrNull(out), fsp.stat(GENERATOR)]);
  // Regenerate when the generator changed since: the filter is derived from it.
  if (bpf && bpf.size > 0 && bpf.mtimeMs >= gen.mtimeMs) return out;
  await fsp.mkdir(stateDir, { recursive: true });
  if (!(await statOrNull(SYSTEM_PYTHON))) {
    throw new SandboxSetupError(`${SYSTEM_PYTHON} not found: apt-get install python3 python3-seccomp (npm run setup installs them)`);
  }
  await new Promise<void>((resolve, reject) => {
    execFile(SYSTEM_PYTHON, ['-I', GENERATOR, out], { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const missing = /python3-seccomp is missing|No module named 'seccomp'/.test(stderr);
      reject(
        new SandboxSetupError(
          missing
            ? 'python3-seccomp is missing (needed once, to generate the seccomp filter): apt-get install python3-seccomp (npm run setup installs it)'
            : `seccomp filter generation failed: ${stderr.trim() || err.message}`,
          { cause: err },
        ),
      );
    });
  });
  return out;
}

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await fsp.stat(p);
  } catch {
    return null;
  }
}
