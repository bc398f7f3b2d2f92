/**
 * A sandbox started ahead of its job (the warm pool: one per slot, each used for exactly one
 * segment). It is spawned with the driver in "wait" mode: bwrap has made its namespaces, python
 * has started and imported what the driver needs, and the driver blocks on stdin for its go. Its
 * output is buffered until runSegment takes it over, so nothing it says (hello, or an early
 * death) is lost. It has run no solution code, and it is never reused: every attempt still gets
 * a fresh uid/namespace/seccomp state.
 */
import { JobCgroups } from './cgroups';
import type { CgroupLayout } from './cgroups';
import { spawnSandbox } from './launch';
import type { LaunchSpec } from './launch';

type Child = ReturnType<typeof spawnSandbox>;

export interface WarmHandlers {
  out: (chunk: string) => void;
  err: (chunk: string) => void;
  close: (code: number | null, signal: NodeJS.Signals | null) => void;
  error: (err: Error) => void;
}

/** A loose RLIMIT_CPU for a sandbox whose job is not known yet: the driver lowers it to the attempt's budget. */
export const WARM_CPU_SECONDS = 3600;

export class WarmSandbox {
  readonly startedAt = Date.now();
  private out: string[] = [];
  private err: string[] = [];
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  private failed?: Error;
  private handlers?: WarmHandlers;
  private taken = false;

  private constructor(
    readonly child: Child,
    readonly cg: JobCgroups | undefined,
    readonly jobDir: string,
    readonly memBytes: number,
  ) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c: string) => (this.handlers ? this.handlers.out(c) : this.out.push(c)));
    child.stderr.on('data', (c: string) => (this.handlers ? this.handlers.err(c) : this.err.push(c)));
    child.on('close', (code, signal) => (this.handlers ? this.handlers.close(code, signal) : (this.exit = { code, signal })));
    child.on('error', (e) => (this.handlers ? this.handlers.error(e) : (this.failed = e)));
    child.stdin.on('error', () => undefined);
  }

  /** Spawns one; rejects (after removing what it made) when the cgroups cannot be made or the spawn fails. */
  static async start(o: {
    launch: Omit<LaunchSpec, 'procsFiles' | 'args' | 'cpuSeconds'>;
    layout: CgroupLayout;
    memBytes: number;
    pidsMax: number;
  }): Promise<WarmSandbox> {
    const cg = o.layout.mode === 'none' ? undefined : JobCgroups.create(o.layout, o.memBytes, o.pidsMax);
    try {
      const child = spawnSandbox({
        ...o.launch,
        procsFiles: cg?.procsFiles ?? [],
        args: ['/sandbox/job', 'wait'],
        cpuSeconds: WARM_CPU_SECONDS,
      });
      return new WarmSandbox(child, cg, o.launch.jobDir, o.memBytes);
    } catch (err) {
      await cg?.destroy();
      throw err;
    }
  }

  /** Hands the sandbox's output to `h`, replaying what it said while it waited. Once only. */
  take(h: WarmHandlers): void {
    if (this.taken) throw new Error('a warm sandbox is used once');
    this.taken = true;
    this.handlers = h;
    for (const c of this.err.splice(0)) h.err(c);
    for (const c of this.out.splice(0)) h.out(c);
    if (this.failed) h.error(this.failed);
    else if (this.exit) h.close(this.exit.code, this.exit.signal);
  }

  /** Starts the job: the driver reads the job files now and runs inputs from `start`. */
  go(start: number, baseCpuMs: number): void {
    this.child.stdin.write(`${start} ${baseCpuMs.toFixed(3)}\n`);
    this.child.stdin.end();
  }

  /** It ended (or failed to spawn) while it waited: not worth handing a job. */
  get dead(): boolean {
    return !!this.exit || !!this.failed;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
}
