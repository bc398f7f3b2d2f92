/**
 * The report's queries (db first, explicit columns only): problem facts, chain examples, LLM
 * calls and tokens. The numbers are made from these rows in summarize.ts.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { listProvenance } from '../../db/queries/provenance';
import { batches, problems, seeds } from '../../db/schema';
import type { ProblemFacts } from './summarize';

export interface BatchInfo {
  id: string;
  settings: Record<string, unknown>;
  createdAt: Date;
  mode: string;
  /** The models the workers used (from batch_provenance; older batches recorded them in settings). */
  models: { teacher?: string; student?: string };
}

/** A batch's mode: settings.mode, 'multi' when absent (batches made before modes existed). */
export function modeOf(settings: Record<string, unknown>): string {
  return typeof settings.mode === 'string' ? settings.mode : 'multi';
}

export async function batchInfo(db: Database, id: string): Promise<BatchInfo | null> {
  const [b] = await db
    .select({ id: batches.id, settings: batches.settings, createdAt: batches.createdAt })
    .from(batches)
    .where(eq(batches.id, id));
  if (!b) return null;
  const models: BatchInfo['models'] = {};
  for (const u of await listProvenance(db, id)) {
    if ((u.role === 'teacher' || u.role === 'student') && typeof u.details.model === 'string') {
      models[u.role] = models[u.role] ? `${models[u.role]}, ${u.details.model}` : u.details.model;
    }
  }
  const legacy = (k: string) => (typeof b.settings[k] === 'string' ? (b.settings[k] as string) : undefined);
  return {
    ...b,
    mode: modeOf(b.settings),
    models: { teacher: models.teacher ?? legacy('teacherModel'), student: models.student ?? legacy('studentModel') },
  };
}

export async function problemFacts(db: Database, batchId: string): Promise<ProblemFacts[]> {
  return db
    .select({
      id: problems.id,
      seedId: problems.seedId,
      env: problems.env,
      turn: problems.turn,
      status: problems.status,
      invalidReason: problems.invalidReason,
      passRate: problems.passRate,
      chainId: problems.chainId,
      duplicateOf: problems.duplicateOf,
    })
    .from(problems)
    .where(eq(problems.batchId, batchId))
    .orderBy(asc(problems.id));
}

export async function seedStatusCounts(db: Database, batchId: string): Promise<Record<string, number>> {
  const rows = await db
    .select({ status: seeds.status, n: sql<number>`count(*)::int` })
    .from(seeds)
    .where(eq(seeds.batchId, batchId))
    .groupBy(seeds.status);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** seed id -> md5 of its snippet: seeds of two batches "coincide" when their snippets are equal. */
export async function seedSnippetHashes(db: Database, batchId: string): Promise<Map<string, string>> {
  const rows = await db
    .select({ id: seeds.seedId, h: sql<string>`md5(${seeds.snippet})` })
    .from(seeds)
    .where(eq(seeds.batchId, batchId));
  return new Map(rows.map((r) => [r.id, r.h]));
}

/** Other batches sharing seed snippets with `batchId`, with how many distinct snippets they share. */
export async function batchesSharingSeeds(
  db: Database,
  batchId: string,
): Promise<{ id: string; shared: number; problems: number; settings: Record<string, unknown>; createdAt: Date }[]> {
  const res = await db.execute<{ id: string; shared: number; problems: number; settings: Record<string, unknown>; created_at: string }>(sql`
    select s.batch_id as id, count(distinct md5(s.snippet))::int as shared, b.settings, b.created_at,
      (select count(*)::int from problems p where p.batch_id = s.batch_id) as problems
    from seeds s join batches b on b.id = s.batch_id
    where s.batch_id <> ${batchId}
      and md5(s.snippet) in (select md5(snippet) from seeds where batch_id = ${batchId})
    group by s.batch_id, b.settings, b.created_at`);
  return res.rows.map((r) => ({
    id: r.id,
    shared: Number(r.shared),
    problems: Number(r.problems),
    settings: r.settings,
    createdAt: new Date(r.created_at),
  }));
}

export interface ChainStep {
  id: number;
  turn: number;
  level: string | null;
  instruction: string;
  status: string;
  invalidReason: string | null;
  passRate: number | null;
  passed: number | null;
  attempts: number | null;
  code: string | null;
  message: string | null;
  parentId: number | null;
}
export interface ChainExample {
  chainId: string;
  seedId: string;
  snippet: string;
  source: string | null;
  steps: ChainStep[];
}

export async function chainExamples(db: Database, batchId: string, chainIds: readonly string[]): Promise<ChainExample[]> {
  if (chainIds.length === 0) return [];
  const rows = await db
    .select({
      id: problems.id,
      chainId: problems.chainId,
      seedId: problems.seedId,
      turn: problems.turn,
      level: problems.level,
      instruction: problems.instruction,
      status: problems.status,
      invalidReason: problems.invalidReason,
      passRate: problems.passRate,
      passed: problems.passed,
      attempts: problems.attempts,
      code: problems.code,
      message: problems.message,
      parentId: problems.parentId,
      snippet: seeds.snippet,
      source: seeds.source,
    })
    .from(problems)
    .innerJoin(seeds, and(eq(seeds.batchId, problems.batchId), eq(seeds.seedId, problems.seedId)))
    .where(and(eq(problems.batchId, batchId), inArray(problems.chainId, [...chainIds])))
    .orderBy(asc(problems.turn), asc(problems.id));
  return chainIds.map((chainId) => {
    const steps = rows.filter((r) => r.chainId === chainId);
    const first = steps[0];
    return {
      chainId,
      seedId: first?.seedId ?? '',
      snippet: first?.snippet ?? '',
      source: first?.source ?? null,
      steps: steps.map(({ chainId: _c, seedId: _s, snippet: _n, source: _o, ...s }) => s),
    };
  });
}

export interface LlmUsage {
  role: string;
  turn: number | null;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** Answers the server cut at max_tokens (finish_reason length). */
  truncated: number;
}

/**
 * LLM calls of the batch by role and turn: the teacher calls its problems point at, the student
 * calls its attempts point at (distinct calls: one call with n = M serves M attempts). Rows with
 * turn null are the batch totals per role (a call shared by two turns counts once there).
 */
export async function llmUsage(db: Database, batchId: string): Promise<LlmUsage[]> {
  const res = await db.execute<{ role: string; turn: number | null; calls: number; pt: number; ct: number; cut: number }>(sql`
    with used as (
      select p.turn, p.teacher_call_id as call_id from problems p where p.batch_id = ${batchId} and p.teacher_call_id is not null
      union
      select p.turn, a.llm_call_id from attempts a join problems p on p.id = a.problem_id where p.batch_id = ${batchId}
    ), per_turn as (
      select c.role, u.turn, count(*)::int calls, coalesce(sum(c.prompt_tokens), 0)::bigint pt, coalesce(sum(c.completion_tokens), 0)::bigint ct,
        (count(*) filter (where c.finish_reason = 'length'))::int cut
      from used u join llm_calls c on c.id = u.call_id group by c.role, u.turn
    ), total as (
      select c.role, null::int turn, count(*)::int calls, coalesce(sum(c.prompt_tokens), 0)::bigint pt, coalesce(sum(c.completion_tokens), 0)::bigint ct,
        (count(*) filter (where c.finish_reason = 'length'))::int cut
      from llm_calls c where c.id in (select call_id from used) group by c.role
    )
    select * from per_turn union all select * from total order by role, turn nulls last`);
  return res.rows.map((r) => ({
    role: r.role,
    turn: r.turn === null ? null : Number(r.turn),
    calls: Number(r.calls),
    promptTokens: Number(r.pt),
    completionTokens: Number(r.ct),
    truncated: Number(r.cut),
  }));
}
