/**
 * The CI-sized chaos run: worker SIGKILLs, a Temporal dev server restart and a Postgres restart
 * while the simulator injects 429s, 500s and malformed answers; nothing may be lost or duplicated.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

test('npm run chaos (small): 0 lost, 0 duplicates, no LLM call paid twice', async () => {
  const root = path.resolve(__dirname, '../..');
  // Enough latency and a small window that the batch outlasts the four faults, 1.5-2.25 s apart.
  const args = ['-r', 'tsx/cjs', 'scripts/bench/chaos.ts', '--seeds', '12', '--turns', '2', '--attempts', '2', '--window', '3', '--teacher-ms', '1000',
    '--student-ms', '300', '--kills', '2', '--restart-temporal', '1', '--restart-postgres', '1', '--gap-ms', '1500', '--timeout-s', '420'];
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const c = spawn(process.execPath, args, { cwd: root, env: process.env });
    let text = '';
    c.stdout.on('data', (b: Buffer) => { text += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { text += b.toString(); });
    c.once('exit', (exitCode) => resolve({ code: exitCode, out: text }));
  });
  if (code !== 0) console.log(out);
  expect(out).toMatch(/seeds: 12 finished, 0 failed, 0 lost \(of 12\)/);
  expect(out).toMatch(/duplicate rows: \{"seeds":0,"problems":0,"attempts":0,"grades":0,"llm_calls":0,"extraAttempts":0,"turnsPerSeed":0\}/);
  expect(out).toMatch(/SIGKILL worker/);
  expect(out).toMatch(/restart Temporal dev server/);
  expect(out).toMatch(/restart Postgres/);
  expect(out).not.toMatch(/were not injected/);
  expect(out).toContain('PASS: nothing lost');
  expect(code).toBe(0);
}, 480_000);
