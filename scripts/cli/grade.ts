import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { createSandbox } from '../../activities/sandbox';
import { loadConfig } from '../../workers/config/load-config';
import { gradeFile, validateFile } from '../lib/grade-jobs';
import { fail, positiveInt } from './options';

function limitMs(v: string): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0 && n <= 60_000)) throw new InvalidArgumentError(`--time-limit-ms must be in (0, 60000] (got ${v}).`);
  return n;
}

function memoryMb(v: string): number {
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 16)) throw new InvalidArgumentError(`--memory-mb must be a whole number >= 16 (got ${v}).`);
  return n;
}

interface GradeOpts {
  in: string;
  out: string;
  concurrency: number;
  timeLimitMs: number;
  memoryMb: number;
  skipBad?: boolean;
  stateDir?: string;
  cgroupParent?: string;
  quiet?: boolean;
}

export function gradeCommand(): Command {
  return new Command('grade')
    .description('grade a JSONL file of jobs (code + inputs [+ expected]) in the sandbox, without Temporal; formats in docs/grader.md')
    .requiredOption('--in <file>', 'jobs, one JSON object per line')
    .requiredOption('--out <file>', 'results, one JSON object per job, in input order (written to FILE.partial, then renamed)')
    .option('--concurrency <n>', 'sandboxes at a time', positiveInt('--concurrency'), 2)
    .option('--time-limit-ms <ms>', 'per-input CPU-time limit when a job has no time_limit_ms', limitMs, 2000)
    .option('--memory-mb <mb>', 'memory per sandbox when a job has no memory_mb', memoryMb, 256)
    .option('--skip-bad', 'skip invalid lines (reported on stderr) instead of refusing the file')
    .option(
      '--state-dir <dir>',
      'where the seccomp filter, compiled driver and job dirs live (default: CAIRN_SANDBOX_STATE_DIR, else /var/lib/cairn/sandbox as root, ~/.local/state/cairn/sandbox otherwise)',
    )
    .option('--cgroup-parent <dir>', 'cgroup v2 dir delegated to you, for cgroup limits as a normal user')
    .option('--quiet', 'print only the summary')
    .action(async (o: GradeOpts) => {
      const say = (m: string): void => {
        if (!o.quiet) console.error(m);
      };
      const ac = new AbortController();
      const onSignal = (sig: NodeJS.Signals): void => ac.abort(new Error(`interrupted by ${sig}; nothing written to ${o.out}`));
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      try {
        if (!fs.existsSync(o.in)) throw new Error(`--in ${o.in}: no such file`);
        const stateDir = o.stateDir ?? loadConfig().sandbox.stateDir;
        // Every line is checked before a sandbox starts: a bad file fails in milliseconds.
        const validated = await validateFile(o.in, !!o.skipBad, (m) => console.error(`skipped ${m}`));
        const sb = await createSandbox({ stateDir, slots: o.concurrency, memoryMb: o.memoryMb, cgroupParent: o.cgroupParent, log: say });
        try {
          const s = await gradeFile({
            inFile: o.in,
            outFile: o.out,
            sandbox: sb,
            concurrency: o.concurrency,
            timeLimitMs: o.timeLimitMs,
            memoryMb: o.memoryMb,
            skipBad: o.skipBad,
            signal: ac.signal,
            validated,
          });
          console.log(
            `graded ${s.jobs} jobs: ${s.pass} pass, ${s.fail} fail, ${s.infraError} infra_error` +
              `${s.skipped ? `, ${s.skipped} bad lines skipped` : ''}; ${s.tests} tests in ${(s.ms / 1000).toFixed(2)} s ` +
              `= ${s.testsPerSec.toFixed(0)} tests/s (${sb.info.privilege} mode, cgroups ${sb.info.cgroupMode}, concurrency ${o.concurrency})`,
          );
          console.log(`wrote ${s.outFile}`);
          if (s.infraError) {
            console.error(
              `cairn: ${s.infraError} jobs could not be graded (infra_error: a host problem, not the code's); grade them again`,
            );
            process.exitCode = 3;
          }
        } finally {
          await sb.close();
        }
      } catch (err) {
        fail(err);
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
    });
}
