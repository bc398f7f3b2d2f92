/**
 * `cairn export`: writes the dataset as JSONL, one record per problem with the fields method.md
 * lists. By default only valid, graded problems with 0.01 <= p <= 0.97 (the paper's filter).
 */
import fs from 'node:fs';
import path from 'node:path';
import { and, asc, eq, gt, gte, lte } from 'drizzle-orm';
import type { Database } from '../db/client';
import { problems, seeds } from '../db/schema';
import { DEFAULT_BAND } from '../db/queries/report';

/** The paper's broad bins (method.md), plus the two ends that the default filter drops. */
export function difficultyBin(p: number): string {
  if (p > 0.97) return 'trivial';
  if (p >= 0.85) return 'easy';
  if (p >= 0.61) return 'easy-medium';
  if (p >= 0.26) return 'medium';
  if (p >= 0.1) return 'hard';
  return 'very-hard';
}

export interface ExportRecord {
  id: number;
  env: string;
  seed: { id: string; kind: string; snippet: string; source: string | null };
  batch_id: string;
  turn: number;
  parent_id: number | null;
  chain_id: string;
  instruction: string;
  code: string;
  inputs: string[];
  outputs: string[];
  message: string;
  pass_rate: number;
  attempts: number;
  passed: number;
  difficulty_bin: string;
}

export interface ExportOptions { batchId: string; out: string; min: number; max: number }

export async function exportBatch(db: Database, o: ExportOptions): Promise<{ written: number; file: string }> {
  if (!(o.min >= 0 && o.max <= 1 && o.min <= o.max)) throw new Error(`--min ${o.min} / --max ${o.max}: need 0 <= min <= max <= 1.`);
  fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
  // Write to a temporary file and rename, so a failed export never leaves a half file behind.
  const tmp = `${o.out}.partial`;
  const fd = fs.openSync(tmp, 'w');
  let written = 0;
  let after = 0;
  try {
    for (;;) {
      const page = await db.select({ p: problems, s: seeds }).from(problems)
        .innerJoin(seeds, and(eq(seeds.batchId, problems.batchId), eq(seeds.seedId, problems.seedId)))
        .where(and(eq(problems.batchId, o.batchId), eq(problems.status, 'graded'), gt(problems.id, after),
          gte(problems.passRate, o.min), lte(problems.passRate, o.max)))
        .orderBy(asc(problems.id)).limit(1000);
      if (page.length === 0) break;
      const lines = page.map(({ p, s }) => {
        const rec: ExportRecord = {
          id: p.id, env: p.env, seed: { id: s.seedId, kind: s.kind, snippet: s.snippet, source: s.source },
          batch_id: p.batchId, turn: p.turn, parent_id: p.parentId, chain_id: p.chainId, instruction: p.instruction,
          code: p.code ?? '', inputs: p.inputs ?? [], outputs: p.outputs ?? [], message: p.message ?? '',
          pass_rate: p.passRate ?? 0, attempts: p.attempts ?? 0, passed: p.passed ?? 0, difficulty_bin: difficultyBin(p.passRate ?? 0),
        };
        return JSON.stringify(rec);
      });
      fs.writeSync(fd, lines.join('\n') + '\n');
      written += page.length;
      after = page[page.length - 1]?.p.id ?? after;
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, o.out);
  return { written, file: path.resolve(o.out) };
}

export { DEFAULT_BAND };
