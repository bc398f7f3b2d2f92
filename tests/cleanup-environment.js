/**
 * Jest's node environment plus cleanup (tests/helpers/tracked-processes.ts keeps the registry): after each test
 * what that test started and left open is closed, after the file what its hooks started, whether
 * they passed, failed or timed out. It runs here, after afterEach/afterAll, because a timed-out
 * test's promise never settles and its finally blocks never run.
 * The process groups of tracked children are also SIGKILLed if this process is interrupted or
 * exits; that needs the real `process` (the tests' `process` is a copy that never sees signals).
 */
const { TestEnvironment } = require('jest-environment-node');

const GROUPS = Symbol.for('cairn.test.processGroups');

function processGroups() {
  if (process[GROUPS]) return process[GROUPS];
  const groups = new Set();
  process[GROUPS] = groups;
  const killAll = () => {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    groups.clear();
  };
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    const onSignal = () => {
      killAll();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig); // then the default action, as if we had not been here
    };
    process.on(sig, onSignal);
  }
  return groups;
}

function countResources() {
  const out = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

class CleanupEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
    this.global.__cairnGroups = processGroups();
    this.global.__cairnPhase = 'file';
  }

  async setup() {
    await super.setup();
    if (process.env.CAIRN_TEST_HANDLES) this.handlesAtStart = countResources();
  }

  async teardown() {
    if (process.env.CAIRN_TEST_HANDLES) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = countResources();
      const extra = Object.entries(now).filter(([k, n]) => n > (this.handlesAtStart[k] ?? 0));
      if (extra.length)
        process.stderr.write(
          `[handles] ${this.testPath}: ${JSON.stringify(Object.fromEntries(extra))} (start ${JSON.stringify(this.handlesAtStart)})\n`,
        );
    }
    await super.teardown();
  }

  async handleTestEvent(event) {
    if (event.name === 'test_start') {
      this.global.__cairnPhase = 'test';
    } else if (event.name === 'test_done') {
      await this.cleanup('test');
      this.global.__cairnPhase = 'file';
    } else if (event.name === 'run_finish') {
      await this.cleanup('file');
    }
  }

  async cleanup(scope) {
    const fn = this.global.__cairnCleanup;
    if (typeof fn === 'function') await fn(scope);
  }
}

module.exports = CleanupEnvironment;
