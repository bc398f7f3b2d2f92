/** A worker started while Temporal is unreachable waits with backoff (saying so) instead of exiting, and stops on SIGTERM. */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createTestDb, type TestDb } from '../helpers/db';

const ROOT = path.resolve(__dirname, '../..');
let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('wwait');
});
afterAll(async () => {
  await tdb?.drop();
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test('waits for Temporal, then exits 0 on SIGTERM', async () => {
  const port = await closedPort();
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/cairn.js'), 'worker', '--queue', 'teacher'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: tdb.url, TEMPORAL_ADDRESS: `127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    // Two waits in a row prove it retries rather than exiting after the first failure.
    for (let i = 0; i < 600 && (out.match(/\[worker\] waiting: Cannot reach Temporal/g) ?? []).length < 2; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(new RegExp(`waiting: Cannot reach Temporal at 127.0.0.1:${port}.*retrying in 1 s`));
    expect(out).toMatch(/retrying in 2 s/);
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}, 90_000);
