/**
 * Dataset records and the queries behind them. Selection is two passes: first the small facts
 * (id, pass rate) of every candidate, which the band, bins and flattening decide on; then the full
 * rows of the chosen ids, page by page, so memory stays bounded whatever the batch size.
 */
import { and, asc, eq, gte, inArray, isNotNull, isNull, lte } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { batches, problems, seeds } from '../../db/schema';
import { binOf, type Band, type BinSetName } from './bins';

export interface ExportRecord {
  id: number;
  env: string;
  seed: { id: string; kind: string; snippet: string; source: string | null };
  batch_id: string;
  turn: number;
  parent_id: number | null;
  chain_id: string;
  /** Chain mode: the level the teacher was asked for (hard, medium, easy); null otherwise. */
  level: string | null;
  instruction: string;
  code: string;
  inputs: string[];
  outputs: string[];
  message: string;
  pass_rate: number;
  /** Student samples used (M, or fewer with adaptive sampling) and how many passed. */
  attempts: number;
  passed: number;
  /** The pass rate's Wilson interval at the batch's confidence level, as recorded when graded (null before it was recorded). */
  pass_low: number | null;
  pass_high: number | null;
  /** The record's bin in the chosen bin set (`--bins`), or null when its pass rate is in none. */
  difficulty_bin: string | null;
  /** Fuzzing: the source of the top-level `pre_test_f` and `test_f` in `code` (which keeps all three); null elsewhere. */
  pre_test_f: string | null;
  test_f: string | null;
}

/**
 * The source of the top-level `def name(...)` in `code`: its line and the indented (or blank, or
 * comment) lines after it, trailing blank and comment lines dropped. Null when there is none.
 */
export function topLevelDef(code: string, name: string): string | null {
  const lines = code.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^(async\\s+)?def\\s+${name}\\s*\\(`).test(l));
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && (/^\s/.test(lines[end] as string) || /^\s*(#.*)?$/.test(lines[end] as string))) end++;
  while (end > start + 1 && /^\s*(#.*)?$/.test(lines[end - 1] as string)) end--;
  return lines.slice(start, end).join('\n');
}

/** The ids of `batchIds` that are not in Postgres. */
export async function missingBatches(db: Database, batchIds: readonly string[]): Promise<string[]> {
  const found = await db
    .select({ id: batches.id })
    .from(batches)
    .where(inArray(batches.id, [...batchIds]));
  const have = new Set(found.map((r) => r.id));
  return batchIds.filter((id) => !have.has(id));
}

export interface Candidate {
  id: number;
  passRate: number;
  bin: string | null;
}

/**
 * Every problem of the batches that may go in the dataset: graded (so never 'invalid', 'duplicate'
 * or ungraded), not marked as a duplicate of another, with a pass rate inside the band.
 */
export async function loadCandidates(db: Database, batchIds: readonly string[], band: Band, set: BinSetName): Promise<Candidate[]> {
  const rows = await db
    .select({ id: problems.id, passRate: problems.passRate })
    .from(problems)
    .where(
      and(
        inArray(problems.batchId, [...batchIds]),
        eq(problems.status, 'graded'),
        isNull(problems.duplicateOf),
        isNotNull(problems.passRate),
        gte(problems.passRate, band.min),
        lte(problems.passRate, band.max),
      ),
    )
    .orderBy(asc(problems.id));
  return rows.map((r) => ({ id: r.id, passRate: r.passRate as number, bin: binOf(r.passRate as number, set) }));
}

/** The full records of `ids` (in id order), `pageSize` at a time. */
export async function* recordPages(db: Database, ids: readonly number[], set: BinSetName, pageSize = 500): AsyncGenerator<ExportRecord[]> {
  for (let i = 0; i < ids.length; i += pageSize) {
    const chunk = ids.slice(i, i + pageSize);
    const rows = await db
      .select({
        id: problems.id,
        env: problems.env,
        batchId: problems.batchId,
        turn: problems.turn,
        parentId: problems.parentId,
        chainId: problems.chainId,
        level: problems.level,
        instruction: problems.instruction,
        code: problems.code,
        inputs: problems.inputs,
        outputs: problems.outputs,
        message: problems.message,
        passRate: problems.passRate,
        attempts: problems.attempts,
        passed: problems.passed,
        passLow: problems.passLow,
        passHigh: problems.passHigh,
        seedId: seeds.seedId,
        kind: seeds.kind,
        snippet: seeds.snippet,
        source: seeds.source,
      })
      .from(problems)
      .innerJoin(seeds, and(eq(seeds.batchId, problems.batchId), eq(seeds.seedId, problems.seedId)))
      .where(inArray(problems.id, chunk))
      .orderBy(asc(problems.id));
    yield rows.map((p): ExportRecord => ({
      id: p.id,
      env: p.env,
      seed: { id: p.seedId, kind: p.kind, snippet: p.snippet, source: p.source },
      batch_id: p.batchId,
      turn: p.turn,
      parent_id: p.parentId,
      chain_id: p.chainId,
      level: p.level,
      instruction: p.instruction,
      code: p.code ?? '',
      inputs: p.inputs ?? [],
      outputs: p.outputs ?? [],
      message: p.message ?? '',
      pass_rate: p.passRate ?? 0,
      attempts: p.attempts ?? 0,
      passed: p.passed ?? 0,
      pass_low: p.passLow,
      pass_high: p.passHigh,
      difficulty_bin: binOf(p.passRate ?? 0, set),
      pre_test_f: p.env === 'fuzzing' ? topLevelDef(p.code ?? '', 'pre_test_f') : null,
      test_f: p.env === 'fuzzing' ? topLevelDef(p.code ?? '', 'test_f') : null,
    }));
  }
}
