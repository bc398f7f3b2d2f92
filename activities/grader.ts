import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '../db/client';
import { getProblem, listAttempts, listGradedAttempts, settleValidProblem, updateProblem, upsertGrade } from '../db/queries/problems';
import { truncatedCalls } from '../db/queries/llm';
import { dedupKeys } from './dedup';
import { contamination, type BenchmarkItem } from './decontam/ngrams';
import { ERR } from '../workflows/contracts';
import { environment } from './environments';
import type { ExecutedProblem } from './environments/environment';
import { withHeartbeat } from './heartbeat';
import type { InputOutcome, Sandbox } from './sandbox/contract';
import { compareMany, type Comparison } from './environments/answers-py';
import { provenanceRecorder } from './usage-recorder';
import { settingsReader } from './settings-reader';
import { problemsValidated, sandboxCpuMs, sandboxHealthy, sandboxRuns, verdicts } from './cairn-metrics';
import { stopSampling, wilson } from '../workflows/method/sampling';

export interface GraderDeps {
  db: Database;
  sandbox: Sandbox;
  /** Wall-clock backstop as a multiple of the CPU limit (limits are CPU time, so load does not decide verdicts). */
  wallFactor?: number;
  /** What this grader enforces (memory limit, mode, python): recorded per batch it grades. */
  details?: Record<string, unknown>;
  /** Public benchmark items for the contamination check (loaded on first use); without it, no check. */
  benchmarks?: () => Promise<BenchmarkItem[]>;
  /**
   * Called once when a run failed for a host-side reason and the sandbox's self-check fails too:
   * this host cannot grade. The worker stops polling the grader queue (other hosts take the tasks).
   */
  onSandboxBroken?: (reason: string) => void;
}

/** The reason a contaminated problem gets (the teacher reads it next turn; status counts it). */
export function contaminatedReason(c: { benchmark: string; item: string; overlap: number; kind: string }): string {
  return `Contaminated: the problem is too close to ${c.item} of the ${c.benchmark} benchmark (${Math.round(c.overlap * 100)}% of its ${c.kind} n-grams shared); write a problem of your own.`;
}

export interface ValidateResult {
  valid: boolean;
  reason: string | null;
}
export interface GradeResult {
  passed: number;
  total: number;
  passRate: number;
  /** The pass rate's interval (Wilson, at the batch's confidence level). */
  low?: number;
  high?: number;
  /** Adaptive rounds only: false while the interval settles nothing yet (sample on); the problem stays 'valid'. */
  settled?: boolean;
}

function describe(o: InputOutcome, i: number): string {
  switch (o.status) {
    case 'timeout':
      return `input ${i + 1} timed out`;
    case 'memory_limit':
      return `input ${i + 1} exceeded the memory limit`;
    case 'output_limit':
      return `input ${i + 1} produced too large an output`;
    case 'protocol_violation':
      return `protocol violation on input ${i + 1}: the code wrote forged lines into the grader's channel`;
    case 'crash':
      return `the process crashed on input ${i + 1}${o.error ? ` (${o.error})` : ''}`;
    default:
      return `input ${i + 1} raised ${o.error ?? 'an error'}`;
  }
}

export function createGraderActivities({ db, sandbox, wallFactor = 3, details, benchmarks, onSandboxBroken }: GraderDeps) {
  const settingsOf = settingsReader(db);
  const recordUse = provenanceRecorder(db, 'grader', { wallFactor, ...details });
  /** Set once the sandbox failed its self-check: nothing more runs (or is graded) on this host. */
  let broken: string | null = null;
  let checking: Promise<string | null> | undefined;
  sandboxHealthy.set(1);
  const brokenFailure = (cause?: unknown) =>
    ApplicationFailure.create({
      type: ERR.sandboxInfra,
      message: `this grader host's sandbox is broken (${broken}); it records no verdict and stopped taking grading tasks, so another grader will run this`,
      cause: cause instanceof Error ? cause : undefined,
    });
  /** After a host-side failure: one self-check at a time; a failed one marks the host broken for good. */
  async function checkHost(): Promise<string | null> {
    if (broken || !sandbox.selfCheck) return broken;
    checking ??= sandbox.selfCheck().finally(() => (checking = undefined));
    const reason = await checking;
    if (reason && !broken) {
      broken = reason;
      sandboxHealthy.set(0);
      onSandboxBroken?.(reason);
    }
    return broken;
  }
  /** A sandbox failure that is not the code's fault is retried by Temporal, never graded as 0. */
  async function run(req: Parameters<Sandbox['run']>[0], signal?: AbortSignal) {
    if (broken) throw brokenFailure();
    try {
      const res = await sandbox.run(req, signal);
      sandboxRuns.inc({ result: 'ok' });
      sandboxCpuMs.inc(res.outcomes.reduce((s, o) => s + (o.cpuMs ?? 0), 0));
      return res;
    } catch (err) {
      if (err instanceof Error && err.name === 'SandboxInfraError') {
        sandboxRuns.inc({ result: 'infra' });
        if (await checkHost()) throw brokenFailure(err);
        throw ApplicationFailure.create({ type: ERR.sandboxInfra, message: err.message, cause: err });
      }
      throw err;
    }
  }

  return {
    /** Executes the teacher's code twice on its inputs: records outputs, or why the problem is invalid. */
    async validateProblem(inp: { problemId: number }): Promise<ValidateResult> {
      const p = await getProblem(db, inp.problemId);
      if (p.status !== 'proposed') return { valid: p.status === 'valid' || p.status === 'graded', reason: p.invalidReason };
      // (a duplicate keeps its reason in invalidReason, so a retried activity answers the same)
      if (!p.code || !p.inputs) throw new Error(`problem ${p.id} has no code to validate`);
      const { timeLimitMs, dedup, nearDup, decontam } = await settingsOf(p.batchId);
      await recordUse(p.batchId);
      const env = environment(p.env);
      const req = { ...env.validation({ code: p.code, inputs: p.inputs, message: p.message }), timeLimitMs, wallFactor, failFast: true };
      const [a, b] = await withHeartbeat(async (signal) => [await run(req, signal), await run(req, signal)]);
      let reason: string | null = null;
      const bad = a.outcomes.findIndex((o) => o.status !== 'ok');
      if (bad >= 0) reason = `The code failed when executed: ${describe(a.outcomes[bad] as InputOutcome, bad)}.`;
      else if (a.outcomes.some((o, i) => o.out !== b.outcomes[i]?.out))
        reason = 'The code is not deterministic: two runs gave different outputs.';
      else reason = env.checkOutputs({ code: p.code, inputs: p.inputs, message: p.message, outputs: a.outcomes.map((o) => o.out ?? '') });
      // Before any student compute: a problem copied from a public benchmark is recorded, not graded.
      if (!reason && decontam !== 'off' && benchmarks) {
        const hit = contamination({ code: p.code, message: p.message }, await benchmarks());
        if (hit) reason = contaminatedReason(hit);
      }
      if (reason) {
        await updateProblem(db, p.id, { status: 'invalid', invalidReason: reason });
        problemsValidated.inc({ result: 'invalid' });
        return { valid: false, reason };
      }
      const dup = await settleValidProblem(
        db,
        p,
        await dedupKeys(p.code),
        {
          outputs: a.outcomes.map((o) => o.out ?? ''),
          refCpuMs: a.outcomes.map((o, i) => Math.max(o.cpuMs ?? 0, b.outcomes[i]?.cpuMs ?? 0)),
        },
        dedup,
        nearDup,
      );
      // A duplicate (exact or near) is recorded, not graded: no student compute is spent on it.
      problemsValidated.inc({ result: dup ? 'duplicate' : 'valid' });
      if (dup) return { valid: false, reason: `${dup.same === 'near' ? 'near-duplicate' : 'duplicate'} of problem ${dup.duplicateOf}` };
      return { valid: true, reason: null };
    },

    /** Grades every attempt not yet graded (host-side comparison), then records the pass rate. */
    async gradeAttempts(inp: { problemId: number; round?: { of: number } }): Promise<GradeResult> {
      const p = await getProblem(db, inp.problemId);
      if (p.status === 'graded' && p.passRate !== null)
        return {
          passed: p.passed ?? 0,
          total: p.attempts ?? 0,
          passRate: p.passRate,
          ...(p.passLow !== null && p.passHigh !== null ? { low: p.passLow, high: p.passHigh } : {}),
          ...(inp.round ? { settled: true } : {}),
        };
      if (!p.code || !p.inputs || !p.outputs) throw new Error(`problem ${p.id} is not validated; cannot grade`);
      const { timeLimitMs, timeSlack, truncated, confidence } = await settingsOf(p.batchId);
      await recordUse(p.batchId);
      const env = environment(p.env);
      const problem: ExecutedProblem = { code: p.code, inputs: p.inputs, outputs: p.outputs, message: p.message };
      // CPU-calibrated limits: verdicts must not depend on machine load (floor, or slack x reference).
      const limit = Math.max(timeLimitMs, Math.ceil(timeSlack * Math.max(0, ...(p.refCpuMs ?? []))));
      const graded = new Set((await listGradedAttempts(db, p.id)).map((g) => g.attempt.id));
      const todo = (await listAttempts(db, p.id)).filter((a) => !graded.has(a.id));
      const ran = await withHeartbeat((signal) =>
        Promise.all(
          todo.map(async (a) => {
            if (a.answer === null) {
              await upsertGrade(db, {
                attemptId: a.id,
                verdict: 'fail',
                inputVerdicts: [],
                cpuMs: [],
                failure: a.parseError ?? 'no answer',
              });
              verdicts.inc({ verdict: 'fail' });
              return null;
            }
            const job = env.gradeJob(problem, a.answer);
            // failFast: the reward is all-or-nothing, so a looping attempt costs one limit, not five.
            const res = await run(
              { code: job.code, entry: job.entry, inputs: job.inputs, timeLimitMs: limit, wallFactor, failFast: true },
              signal,
            );
            return { a, job, res };
          }),
        ),
      );
      // One comparison call for the problem's attempts (answers.py: the same code cairn_reward.py runs).
      const done = ran.filter((r) => r !== null);
      const cmps = await compareMany(done.map(({ job, res }) => ({ outcomes: res.outcomes, expected: job.expected })));
      for (const [k, { a, res }] of done.entries()) {
        const cmp = cmps[k] as Comparison;
        const firstBad = cmp.verdicts.findIndex((v) => v !== 'ok');
        const failure =
          firstBad < 0
            ? null
            : cmp.verdicts[firstBad] === 'wrong'
              ? `wrong output on input ${firstBad + 1}`
              : describe(res.outcomes[firstBad] as InputOutcome, firstBad);
        await upsertGrade(db, {
          attemptId: a.id,
          verdict: cmp.pass ? 'pass' : 'fail',
          inputVerdicts: cmp.verdicts,
          cpuMs: res.outcomes.map((o) => o.cpuMs ?? null),
          failure,
        });
        verdicts.inc({ verdict: cmp.pass ? 'pass' : 'fail' });
      }
      const every = await listGradedAttempts(db, p.id);
      // Answers cut at max_tokens say nothing about the problem: left out unless the batch counts them
      // (--truncated fail). When every answer was cut they are all there is, and count as failures.
      const cut =
        truncated === 'fail'
          ? new Set<number>()
          : await truncatedCalls(
              db,
              every.map((g) => g.attempt.llmCallId),
            );
      const kept = every.filter((g) => !cut.has(g.attempt.llmCallId));
      const all = kept.length > 0 ? kept : every;
      const passed = all.filter((g) => g.grade.verdict === 'pass').length;
      const total = all.length;
      const passRate = total === 0 ? 0 : passed / total;
      const [low, high] = wilson(passed, total, confidence);
      // An adaptive round that settles nothing yet leaves the problem 'valid' with its counts so far.
      const settled = inp.round ? stopSampling(passed, total, inp.round.of, confidence) : true;
      await updateProblem(db, p.id, {
        ...(settled ? { status: 'graded' as const } : {}),
        attempts: total,
        passed,
        passRate,
        passLow: low,
        passHigh: high,
      });
      return { passed, total, passRate, low, high, ...(inp.round ? { settled } : {}) };
    },
  };
}
