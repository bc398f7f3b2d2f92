/**
 * `cairn batch report`: gathers everything the page shows (the ReportModel that html.ts renders),
 * renders it and writes one self-contained HTML file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../../db/client';
import { batchTokenUse, costOf, type PriceTable } from '../../db/queries/cost';
import { DEFAULT_BAND, type Band } from '../dataset/bins';
import { compareBatches, pickComparison, type Comparison } from './compare-batches';
import { renderReport, type ReportModel } from './html';
import { gradeCounts } from '../../db/queries/stats';
import { batchInfo, chainExamples, llmUsage, problemFacts, seedStatusCounts } from './data';
import { histograms, invalidReasons, pickChains, turnStats, yieldOf } from './summarize';

export interface ReportOptions {
  batchId: string;
  /** A batch id; null: no comparison; undefined: pick one when obvious. */
  compare?: string | null;
  /** Chains shown as stepping-stone examples. */
  examples?: number;
  band?: Band;
  now?: Date;
  /** Prices per model (the config's CAIRN_PRICES); without them the page shows no cost. */
  prices?: PriceTable;
}

export async function buildReportModel(db: Database, o: ReportOptions): Promise<ReportModel> {
  const batch = await batchInfo(db, o.batchId);
  if (!batch) throw new Error(`No batch ${o.batchId} in Postgres. Start one with \`npx cairn batch start --seeds FILE\`.`);
  const band = o.band ?? DEFAULT_BAND;
  const [rows, seeds, llm, grades] = await Promise.all([
    problemFacts(db, batch.id),
    seedStatusCounts(db, batch.id),
    llmUsage(db, batch.id),
    gradeCounts(db, batch.id),
  ]);
  const seedTotal = Object.values(seeds).reduce((a, b) => a + b, 0);
  const turns = turnStats(rows, band);

  let comparison: Comparison | null = null;
  let comparisonNote = 'Comparison turned off (--no-compare).';
  if (o.compare !== null) {
    const pick =
      o.compare === undefined
        ? await pickComparison(db, batch, seedTotal)
        : { id: o.compare, note: `Compared with ${o.compare} (--compare).` };
    comparisonNote = pick.note;
    if (pick.id) comparison = await compareBatches(db, batch, pick.id, band, o.compare === undefined);
  }

  const totalsByRole = llm.filter((u) => u.turn === null);
  return {
    generatedAt: (o.now ?? new Date()).toISOString().slice(0, 19).replace('T', ' ') + ' UTC',
    batch,
    envs: [...new Set(rows.map((r) => r.env))].sort(),
    seeds,
    seedTotal,
    band,
    totals: yieldOf(rows, band, seedTotal),
    turns,
    reasons: invalidReasons(
      rows,
      turns.map((t) => t.turn),
    ),
    histByTurn: histograms(rows, (r) => String(r.turn)).sort((a, b) => Number(a.key) - Number(b.key)),
    histByEnv: histograms(rows, (r) => r.env).sort((a, b) => a.key.localeCompare(b.key)),
    comparison,
    comparisonNote,
    chains: await chainExamples(db, batch.id, pickChains(rows, o.examples ?? 3)),
    llm,
    grades,
    llmTotals: {
      calls: totalsByRole.reduce((s, u) => s + u.calls, 0),
      promptTokens: totalsByRole.reduce((s, u) => s + u.promptTokens, 0),
      completionTokens: totalsByRole.reduce((s, u) => s + u.completionTokens, 0),
    },
    cost: o.prices && Object.keys(o.prices).length ? costOf(await batchTokenUse(db, batch.id), o.prices) : null,
  };
}

/** Builds the model, renders it, writes `out` (via a temporary file); returns the model for the caller's summary. */
export async function writeReport(db: Database, o: ReportOptions & { out: string }): Promise<{ file: string; model: ReportModel }> {
  const model = await buildReportModel(db, o);
  fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
  const tmp = `${o.out}.partial`;
  fs.writeFileSync(tmp, renderReport(model));
  fs.renameSync(tmp, o.out);
  return { file: path.resolve(o.out), model };
}
