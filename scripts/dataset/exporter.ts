/**
 * `cairn export`: writes a dataset (JSONL or Parquet) of one or more batches, one record per
 * problem with the fields method.md lists. Only graded problems that are not duplicates, with
 * min <= p <= max (default 0.01-0.97, the paper's filter); each record carries its difficulty bin
 * in the chosen bin set; optionally flattened to a target histogram and accompanied by a
 * curriculum's sampling plan (`<out>.curriculum.json`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { batches } from '../../db/schema';
import { BIN_SETS, DEFAULT_BAND, binHistogram, binOf, type BinHistogram, type BinSetName } from './bins';
import { buildCurriculumPlan, defaultBinSet, type CurriculumName, type CurriculumPlan } from './curriculum';
import { flattenByBins, type FlattenTarget } from './flatten';
import { loadCandidates, recordPages, type ExportRecord } from './records';
import { formatFor, writeJsonl, writeParquet, type DatasetFormat } from './writers';
import { exportTrainer, type TrainerExportResult } from './trainer-export';
import { TRAINER_FORMATS, type GroundTruthStyle, type TrainerFormat } from './trainer';
import { writeCard } from './card';

/** The broad bin, with names for the two ends the bins leave out (kept for callers of the old labeler). */
export function difficultyBin(p: number): string {
  return binOf(p, 'broad') ?? (p > DEFAULT_BAND.max ? 'trivial' : 'very-hard');
}

export interface ExportOptions {
  /** One batch, or several exported into one file (e.g. one per environment). */
  batchId: string | readonly string[];
  out: string;
  /** Lowest and highest pass rate kept (default the method's filter band, 0.01-0.97). */
  min?: number;
  max?: number;
  /** Default: the curriculum's bin set, else broad. */
  bins?: BinSetName;
  flatten?: boolean;
  /** Relative counts per bin for --flatten; default equal. */
  flattenTarget?: FlattenTarget;
  /** Sampling seed for --flatten (default "0"). */
  seed?: string;
  /** Default: from the file extension. A trainer format (verl, trl, openrlhf) makes `out` a directory. */
  format?: DatasetFormat | TrainerFormat;
  /** Trainer formats: the share of records (by a hash of the id) held out in test.* (default 0: no test split). */
  testFraction?: number;
  /** Trainer formats: `apps` gives induction records verl's APPS-style ground truth (default cairn). */
  groundTruth?: GroundTruthStyle;
  curriculum?: { name: CurriculumName; steps: number; batchSize: number };
}

export interface ExportResult {
  written: number;
  file: string;
  format: DatasetFormat | TrainerFormat;
  binSet: BinSetName;
  /** Trainer formats: the files, split counts, reward file and card. */
  trainer?: TrainerExportResult & { card: string };
  /** Records per bin after the band filter, and after flattening (null without --flatten). */
  before: BinHistogram;
  after: BinHistogram | null;
  warnings: string[];
  plan: CurriculumPlan | null;
  planFile: string | null;
}

export function curriculumPlanFile(out: string): string {
  return `${out}.curriculum.json`;
}

export async function exportBatch(db: Database, o: ExportOptions): Promise<ExportResult> {
  const band = { min: o.min ?? DEFAULT_BAND.min, max: o.max ?? DEFAULT_BAND.max };
  if (!(band.min >= 0 && band.max <= 1 && band.min <= band.max))
    throw new Error(`--min ${band.min} / --max ${band.max}: need 0 <= min <= max <= 1.`);
  const batchIds = typeof o.batchId === 'string' ? [o.batchId] : [...o.batchId];
  const binSet: BinSetName = o.bins ?? (o.curriculum ? defaultBinSet(o.curriculum.name) : null) ?? 'broad';
  const format = o.format ?? formatFor(o.out);
  const binsInfo = BIN_SETS[binSet].map(({ name, min, max }) => ({ name, min, max }));
  const planFor = (dataset: CurriculumPlan['dataset']) =>
    o.curriculum &&
    buildCurriculumPlan({
      curriculum: o.curriculum.name,
      binSet,
      steps: o.curriculum.steps,
      batchSize: o.curriculum.batchSize,
      bins: binsInfo,
      dataset,
    });
  // Checks the curriculum against the bin set, steps and batch size before any file is written.
  planFor({ file: '', format, records: 0, per_bin: {}, unbinned: 0 });

  const candidates = await loadCandidates(db, batchIds, band, binSet);
  const before = binHistogram(candidates, binSet);
  const warnings: string[] = [];
  let chosen = candidates;
  let after: BinHistogram | null = null;
  if (o.flatten) {
    const f = flattenByBins(candidates, binSet, o.seed ?? '0', o.flattenTarget);
    chosen = f.kept;
    after = binHistogram(chosen, binSet);
    warnings.push(...f.warnings);
  }
  const ids = chosen.map((c) => c.id);
  const pages = recordPages(db, ids, binSet);

  let written: number;
  let trainer: ExportResult['trainer'];
  if ((TRAINER_FORMATS as readonly string[]).includes(format)) {
    const t = await exportTrainer(db, {
      dir: o.out,
      format: format as TrainerFormat,
      batchIds,
      ids,
      binSet,
      testFraction: o.testFraction ?? 0,
      groundTruth: o.groundTruth ?? 'cairn',
    });
    warnings.push(...t.warnings);
    written = t.counts.train + t.counts.test;
    const card = await writeCard(db, {
      dir: o.out,
      format: format as TrainerFormat,
      batchIds,
      band,
      binSet,
      result: t,
      groundTruth: o.groundTruth ?? 'cairn',
      testFraction: o.testFraction ?? 0,
    });
    trainer = { ...t, card };
  } else if (format === 'parquet') {
    const settings = await db.select({ id: batches.id, settings: batches.settings }).from(batches).where(inArray(batches.id, batchIds));
    const provenance = {
      batches: settings,
      band,
      bins: binSet,
      bin_ranges: BIN_SETS[binSet],
      flatten: o.flatten ? { seed: o.seed ?? '0', target: o.flattenTarget ?? 'equal' } : null,
    };
    written = await writeParquet(o.out, pages, { cairn: JSON.stringify(provenance) });
  } else {
    written = await writeJsonl(o.out, pages);
  }

  let plan: CurriculumPlan | null = null;
  let planFile: string | null = null;
  if (o.curriculum) {
    const final = after ?? before;
    plan = planFor({
      file: path.basename(o.out),
      format,
      records: written,
      per_bin: Object.fromEntries(final.bins.map((b) => [b.name, b.n])),
      unbinned: final.unbinned,
    }) as CurriculumPlan;
    planFile = trainer ? path.join(o.out, 'curriculum.json') : curriculumPlanFile(o.out);
    fs.writeFileSync(planFile, JSON.stringify(plan, null, 2) + '\n');
  }
  return {
    written,
    file: path.resolve(o.out),
    format,
    binSet,
    before,
    after,
    warnings,
    plan,
    planFile: planFile && path.resolve(planFile),
    trainer,
  };
}

export { DEFAULT_BAND, type ExportRecord };
