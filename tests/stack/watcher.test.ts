/**
 * The stack's child watcher on real processes (small `node -e` children writing to a log file):
 * unexpected exits are reported at once with the log lines of that run, fatal or restarted with
 * capped exponential backoff, and nothing is reported or restarted once the stack is stopping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logTail, StackWatcher } from '../../scripts/stack/watch';

let dir: string;
const started: ChildProcess[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-watch-'));
});
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A node child running `code`, output appended to `log`. */
function node(log: string, code: string): () => ChildProcess {
  return () => {
    const fd = fs.openSync(log, 'a');
    try {
      const c = spawn(process.execPath, ['-e', code], { stdio: ['ignore', fd, fd] });
      started.push(c);
      return c;
    } finally {
      fs.closeSync(fd);
    }
  };
}

function recorder(): { say: (m: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { say: (m) => lines.push(m), lines };
}

test('an unexpected exit is fatal at once, with the lines this run wrote (not older ones)', async () => {
  const log = path.join(dir, 'w.log');
  fs.writeFileSync(log, 'an older run\n');
  const { say, lines } = recorder();
  const w = new StackWatcher({ say, settleMs: 50 });
  const t0 = Date.now();
  w.start('worker x', log, node(log, 'console.log("starting"); console.error("cairn: no such thing"); process.exit(3)'), false);
  const err = await w.fatal;
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(err.message).toMatch(/^worker x \(pid \d+\) exited with code 3 after [\d.]+ s; the last line of .*w\.log: cairn: no such thing$/);
  expect(err.tail).toBe('starting\ncairn: no such thing');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /worker x \(pid \d+\) exited with code 3 after [\d.]+ s; last lines of .*w\.log:\n {4}starting\n {4}cairn: no such thing$/,
  );
  expect(lines[0]).not.toMatch(/older run/);
  await w.stop();
});

test('a child killed by a signal, or that wrote nothing, is reported as such', async () => {
  const log = path.join(dir, 'k.log');
  const { say, lines } = recorder();
  const w = new StackWatcher({ say, settleMs: 50 });
  const c = w.start('the server', log, node(log, 'setInterval(() => undefined, 1000)'), false);
  setTimeout(() => c.kill('SIGKILL'), 200);
  const err = await w.fatal;
  expect(err.message).toMatch(/^the server \(pid \d+\) was killed by SIGKILL after [\d.]+ s$/);
  expect(lines[0]).toMatch(/it wrote nothing to .*k\.log$/);
});

test('a restartable child is restarted with doubling, capped waits; stop() ends the loop and the child', async () => {
  const log = path.join(dir, 'r.log');
  const { say, lines } = recorder();
  const w = new StackWatcher({ say, settleMs: 20, backoff: { firstMs: 100, maxMs: 400, resetAfterMs: 60_000 } });
  w.start('worker r', log, node(log, 'console.log("boom"); process.exit(1)'), true);
  const waits = (): string[] => lines.flatMap((l) => /restarting in ([\d.]+) s/.exec(l)?.[1] ?? []);
  for (let i = 0; i < 200 && waits().length < 5; i++) await new Promise((r) => setTimeout(r, 50));
  expect(waits().slice(0, 5)).toEqual(['0.1', '0.2', '0.4', '0.4', '0.4']);
  expect(lines.filter((l) => /^worker r restarted \(pid \d+\)$/.test(l)).length).toBeGreaterThanOrEqual(4);
  expect(lines.filter((l) => /exited with code 1.*last lines of .*r\.log:\n {4}boom$/.test(l)).length).toBeGreaterThanOrEqual(5);
  await w.stop();
  const after = lines.length;
  await new Promise((r) => setTimeout(r, 600));
  expect(lines.slice(after)).toEqual([]); // no restart and no report once stopping
  for (const c of started) expect(c.exitCode !== null || c.signalCode !== null).toBe(true);
  // The fatal promise never settles for a restartable child.
  await expect(Promise.race([w.fatal.then(() => 'fatal'), new Promise((r) => setTimeout(() => r('pending'), 50))])).resolves.toBe(
    'pending',
  );
});

test('exits while stopping are expected: stop() SIGTERMs its children and reports nothing', async () => {
  const log = path.join(dir, 's.log');
  const { say, lines } = recorder();
  const w = new StackWatcher({ say, settleMs: 20 });
  const c = w.start(
    'worker s',
    log,
    node(
      log,
      'process.on("SIGTERM", () => { console.log("draining"); process.exit(0); }); console.log("ready"); setInterval(() => undefined, 1000)',
    ),
    true,
  );
  for (let i = 0; i < 200 && !fs.readFileSync(log, 'utf8').includes('ready'); i++) await new Promise((r) => setTimeout(r, 25));
  await w.stop();
  expect(c.exitCode).toBe(0);
  await new Promise((r) => setTimeout(r, 100));
  expect(lines).toEqual([]);
  expect(fs.readFileSync(log, 'utf8')).toBe('ready\ndraining\n');
});

test('logTail: last lines after an offset, blank lines dropped, missing file is empty', () => {
  const log = path.join(dir, 't.log');
  fs.writeFileSync(log, 'old\n');
  const offset = fs.statSync(log).size;
  fs.appendFileSync(log, Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n\n') + '\n');
  expect(logTail(log, offset, 3)).toBe('line 27\nline 28\nline 29');
  expect(logTail(log, fs.statSync(log).size)).toBe('');
  expect(logTail(path.join(dir, 'missing.log'))).toBe('');
});
