/** SIGKILL of the host process mid-grade: nothing of the sandbox survives, and the next start cleans up. */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createSandbox } from '../../activities/sandbox';
import { spawnTracked } from '../helpers/tracked-processes';
import { cgroupsOf, liveProcsOf, uidBaseFor } from './sandbox-helpers';

const ROOT = path.resolve(__dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('kill -9 of the grading process: no sandbox process after 1 s, stale cgroups removed by the next createSandbox', async () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-sbx-kill9-'));
  fs.chmodSync(stateDir, 0o755);
  const uid = uidBaseFor(2);
  try {
    const child = spawnTracked(
      process.execPath,
      ['-r', 'tsx/cjs', path.join(__dirname, 'fixtures/grade-child.ts'), stateDir, String(uid)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    // Wait until the sandbox and its daemons are running (python + 3 daemons + 2 bwrap).
    const t0 = Date.now();
    while (liveProcsOf([uid]).length < 6) {
      if (Date.now() - t0 > 20_000 || child.exitCode !== null) throw new Error(`sandbox never started: ${stderr}`);
      await sleep(50);
    }
    const childPid = child.pid ?? -1;
    expect(cgroupsOf(childPid).length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await exited;
    await sleep(1000);
    expect(liveProcsOf([uid])).toEqual([]);
    // The killed process could not remove its cgroups (sandbox.md §3.1): the next start does.
    expect(cgroupsOf(childPid).length).toBeGreaterThan(0);
    const logs: string[] = [];
    const sb = await createSandbox({ stateDir, uidBase: uid, slots: 1, log: (m) => logs.push(m) });
    try {
      expect(sb.info.staleCgroupsRemoved).toBeGreaterThanOrEqual(1);
      expect(cgroupsOf(childPid)).toEqual([]);
      // its job dir too (what is left is the new grader's own idle pre-started sandbox)
      const idle = new Set((await sb.idleSandboxes()).map((w) => path.basename(w.jobDir)));
      expect(fs.readdirSync(path.join(stateDir, 'jobs')).filter((d) => !idle.has(d))).toEqual([]);
      expect(logs.join('\n')).toMatch(new RegExp(`stale cgroup sbx-${childPid}-`));
    } finally {
      await sb.close();
    }
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});
