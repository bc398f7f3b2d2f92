import { eq, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { attempts, llmCalls, problems, seeds } from '../schema';
import { seedCounts } from './batches';
import { FILTER_BAND } from '../../workflows/method/numbers';

export interface BatchSummary {
  batchId: string;
  seeds: { total: number; pending: number; running: number; done: number; failed: number };
  turns: {
    turn: number;
    problems: number;
    valid: number;
    invalid: number;
    duplicate: number;
    inBand: number;
    meanPassRate: number | null;
  }[];
  invalidReasons: { reason: string; n: number }[];
  /** Duplicates that are near-copies (status 'duplicate', reason 'Near-duplicate: ...'), all turns. */
  nearDuplicates: number;
  histogram: { label: string; n: number }[];
  llm: {
    calls: number;
    teacherCalls: number;
    studentCalls: number;
    promptTokens: number;
    completionTokens: number;
    cacheHits: number;
    /** Answers cut at max_tokens (finish_reason length), per role. */
    teacherTruncated: number;
    studentTruncated: number;
  };
  exportable: number;
  /** Student attempts graded: verdicts, and how many failed for a detected protocol violation. */
  grades: GradeCounts;
  /** Student samples spent on graded problems (M each with fixed sampling; fewer with adaptive), and the mean width of their pass-rate intervals. */
  sampling: { graded: number; samples: number; meanWidth: number | null };
  /** Why seeds failed (their recorded outcome), most common first. */
  failures: { reason: string; n: number }[];
}

export interface GradeCounts {
  attempts: number;
  pass: number;
  fail: number;
  /** Attempts that wrote forged lines into the grader's channel (graded fail, per-input verdict protocol_violation). */
  protocolViolations: number;
}

/** Graded attempts of a batch by verdict, with the protocol violations among the fails. */
export async function gradeCounts(db: Database, batchId: string): Promise<GradeCounts> {
  const res = await db.execute<{ attempts: number; pass: number; fail: number; pv: number }>(sql`
    select count(*)::int attempts,
           count(*) filter (where g.verdict = 'pass')::int pass,
           count(*) filter (where g.verdict = 'fail')::int fail,
           count(*) filter (where g.input_verdicts @> '["protocol_violation"]'::jsonb)::int pv
    from grades g join attempts a on a.id = g.attempt_id join problems p on p.id = a.problem_id
    where p.batch_id = ${batchId}`);
  const r = res.rows[0];
  return {
    attempts: Number(r?.attempts ?? 0),
    pass: Number(r?.pass ?? 0),
    fail: Number(r?.fail ?? 0),
    protocolViolations: Number(r?.pv ?? 0),
  };
}

/** The dataset filter counted as `exportable` (the method module's). */
export const DEFAULT_BAND = FILTER_BAND;
const HIST_EDGES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** Histogram buckets: p = 0 and p = 1 apart (the filter drops both), tenths in between. */
export function histogramLabels(): string[] {
  return ['0 (none)', ...HIST_EDGES.slice(0, -1).map((lo, i) => `${lo.toFixed(1)}-${(HIST_EDGES[i + 1] as number).toFixed(1)}`), '1 (all)'];
}

export function histogramIndex(p: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return 11;
  return 1 + Math.min(9, Math.floor(p * 10));
}

export async function batchSummary(db: Database, batchId: string): Promise<BatchSummary> {
  const counts = await seedCounts(db, batchId);
  const rows = await db
    .select({
      turn: problems.turn,
      status: problems.status,
      passRate: problems.passRate,
      reason: problems.invalidReason,
      attempts: problems.attempts,
      low: problems.passLow,
      high: problems.passHigh,
    })
    .from(problems)
    .where(eq(problems.batchId, batchId));
  const byTurn = new Map<number, BatchSummary['turns'][number] & { sum: number; graded: number }>();
  const reasons = new Map<string, number>();
  const hist = histogramLabels().map((label) => ({ label, n: 0 }));
  let exportable = 0;
  let nearDuplicates = 0;
  const sampling = { graded: 0, samples: 0, widthSum: 0, widths: 0 };
  for (const r of rows) {
    const t = byTurn.get(r.turn) ?? {
      turn: r.turn,
      problems: 0,
      valid: 0,
      invalid: 0,
      duplicate: 0,
      inBand: 0,
      meanPassRate: null,
      sum: 0,
      graded: 0,
    };
    byTurn.set(r.turn, t);
    t.problems++;
    if (r.status === 'invalid') {
      t.invalid++;
      const reason = (r.reason ?? 'unknown').replace(/input \d+/g, 'input N').slice(0, 120);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    } else if (r.status === 'duplicate') {
      t.duplicate++;
      if (r.reason?.startsWith('Near-duplicate:')) nearDuplicates++;
    } else if (r.status === 'valid' || r.status === 'graded') t.valid++;
    else if (r.status === 'failed') {
      // Valid, but never graded: the student endpoint did not give its M samples (the reason says why).
      t.valid++;
      const reason = (r.reason ?? 'student samples missing').slice(0, 120);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    if (r.status === 'graded' && r.passRate !== null) {
      t.graded++;
      t.sum += r.passRate;
      if (r.passRate > 0 && r.passRate < 1) t.inBand++;
      if (r.passRate >= DEFAULT_BAND.min && r.passRate <= DEFAULT_BAND.max) exportable++;
      (hist[histogramIndex(r.passRate)] as { n: number }).n++;
      sampling.graded++;
      sampling.samples += r.attempts ?? 0;
      if (r.low !== null && r.high !== null) {
        sampling.widthSum += r.high - r.low;
        sampling.widths++;
      }
    }
  }
  const turns = [...byTurn.values()]
    .sort((a, b) => a.turn - b.turn)
    .map(({ sum, graded, ...t }) => ({ ...t, meanPassRate: graded ? sum / graded : null }));
  // LLM calls of this batch: the teacher calls its problems point at, the student calls its attempts point at.
  const teacherIds = db.select({ id: problems.teacherCallId }).from(problems).where(eq(problems.batchId, batchId));
  const studentIds = db
    .selectDistinct({ id: attempts.llmCallId })
    .from(attempts)
    .innerJoin(problems, eq(problems.id, attempts.problemId))
    .where(eq(problems.batchId, batchId));
  const llmRows = await db
    .select({
      role: llmCalls.role,
      n: sql<number>`count(*)::int`,
      pt: sql<number>`coalesce(sum(${llmCalls.promptTokens}),0)::int`,
      ct: sql<number>`coalesce(sum(${llmCalls.completionTokens}),0)::int`,
      hits: sql<number>`coalesce(sum(${llmCalls.cacheHits}),0)::int`,
      cut: sql<number>`(count(*) filter (where ${llmCalls.finishReason} = 'length'))::int`,
    })
    .from(llmCalls)
    .where(sql`${llmCalls.id} in (${teacherIds}) or ${llmCalls.id} in (${studentIds})`)
    .groupBy(llmCalls.role);
  const llm = {
    calls: 0,
    teacherCalls: 0,
    studentCalls: 0,
    promptTokens: 0,
    completionTokens: 0,
    cacheHits: 0,
    teacherTruncated: 0,
    studentTruncated: 0,
  };
  for (const r of llmRows) {
    llm.calls += r.n;
    if (r.role === 'teacher') {
      llm.teacherCalls += r.n;
      llm.teacherTruncated += r.cut;
    } else {
      llm.studentCalls += r.n;
      llm.studentTruncated += r.cut;
    }
    llm.promptTokens += r.pt;
    llm.completionTokens += r.ct;
    llm.cacheHits += r.hits;
  }
  const failRows = await db
    .select({ reason: seeds.outcome, n: sql<number>`count(*)::int` })
    .from(seeds)
    .where(sql`${seeds.batchId} = ${batchId} and ${seeds.status} = 'failed'`)
    .groupBy(seeds.outcome)
    .orderBy(sql`2 desc`)
    .limit(10);
  return {
    batchId,
    grades: await gradeCounts(db, batchId),
    failures: failRows.map((r) => ({ reason: r.reason ?? 'unknown', n: r.n })),
    seeds: { total: counts.pending + counts.running + counts.done + counts.failed, ...counts },
    turns,
    invalidReasons: [...reasons.entries()].map(([reason, n]) => ({ reason, n })).sort((a, b) => b.n - a.n),
    nearDuplicates,
    histogram: hist,
    llm,
    exportable,
    sampling: {
      graded: sampling.graded,
      samples: sampling.samples,
      meanWidth: sampling.widths ? sampling.widthSum / sampling.widths : null,
    },
  };
}
