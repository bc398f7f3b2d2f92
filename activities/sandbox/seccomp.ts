import { execFile } from 'child_process';
import { createHash } from 'crypto';
import { promises as fsp } from 'fs';
import type { Stats } from 'fs';
import path from 'path';
import { SandboxSetupError } from './sandbox-errors';

/** Debian's interpreter: the only one with python3-seccomp (and the fast one, see sandbox.md §2). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
const GENERATOR = path.join(__dirname, 'mkseccomp.py');

/**
 * Generates `<stateDir>/seccomp-<hash>.bpf` (raw BPF for `bwrap --seccomp`) unless it exists, and
 * returns its path. The name hashes the generator, so a changed filter gets a new file and two
 * checkouts sharing a state dir each use their own. Idempotent and safe to call concurrently: the
 * generator writes a temp file and renames it. `stateDir` must exist (ensureStateDir makes it with
 * the right owner and mode). Throws SandboxSetupError when python3-seccomp is not installed.
 */
export async function ensureSeccomp(stateDir: string): Promise<string> {
  const hash = createHash('sha256')
    .update(await fsp.readFile(GENERATOR))
    .digest('hex')
    .slice(0, 16);
  const out = path.join(stateDir, `seccomp-${hash}.bpf`);
  const bpf = await statOrNull(out);
  if (bpf && bpf.size > 0) return out;
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
