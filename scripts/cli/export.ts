import { Command } from 'commander';
import { BIN_SET_NAMES, DEFAULT_BAND, formatBinHistogram, parseBinSet } from '../dataset/bins';
import { CURRICULUM_NAMES, defaultBinSet, formatCurriculumPlan, parseCurriculum } from '../dataset/curriculum';
import { parseFlattenTarget } from '../dataset/flatten';
import { missingBatches } from '../dataset/records';
import { DATASET_FORMATS, formatFor } from '../dataset/writers';
import { exportBatch, type ExportOptions } from '../dataset/exporter';
import { TRAINER_FORMATS, type GroundTruthStyle, type TrainerFormat } from '../dataset/trainer';
import { fail, positiveInt, unitFloat, withDb } from './options';

interface Flags {
  batch: string[];
  out: string;
  min: number;
  max: number;
  all?: boolean;
  format?: string;
  bins?: string;
  flatten?: boolean;
  flattenTarget?: string;
  seed: string;
  curriculum?: string;
  steps?: number;
  batchSize?: number;
  testFraction?: number;
  groundTruth?: string;
}

const collect = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** Flags -> typed options; every mistake is reported before Postgres is opened. */
export function exportOptions(f: Flags): ExportOptions {
  const bins = f.bins === undefined ? undefined : parseBinSet(f.bins);
  const curriculum = f.curriculum === undefined ? undefined : parseCurriculum(f.curriculum);
  if (curriculum && (f.steps === undefined || f.batchSize === undefined))
    throw new Error(`--curriculum needs --steps N (RL steps of your run) and --batch-size B (problems per step).`);
  if (!curriculum && (f.steps !== undefined || f.batchSize !== undefined))
    throw new Error('--steps and --batch-size go with --curriculum.');
  if (f.flattenTarget !== undefined && !f.flatten) throw new Error('--flatten-target goes with --flatten.');
  const set = bins ?? (curriculum ? defaultBinSet(curriculum) : null) ?? 'broad';
  const all: readonly string[] = [...DATASET_FORMATS, ...TRAINER_FORMATS];
  if (f.format !== undefined && !all.includes(f.format)) throw new Error(`--format ${f.format}: choose one of ${all.join(', ')}.`);
  const trainer = f.format !== undefined && (TRAINER_FORMATS as readonly string[]).includes(f.format);
  if (!trainer && (f.testFraction !== undefined || f.groundTruth !== undefined))
    throw new Error(`--test-fraction and --ground-truth go with --format ${TRAINER_FORMATS.join(' | ')}.`);
  if (f.testFraction !== undefined && !(f.testFraction >= 0 && f.testFraction < 1))
    throw new Error(`--test-fraction ${f.testFraction}: need 0 <= fraction < 1 (e.g. 0.1).`);
  if (f.groundTruth !== undefined && !['cairn', 'apps'].includes(f.groundTruth))
    throw new Error(`--ground-truth ${f.groundTruth}: choose cairn or apps.`);
  if (f.groundTruth === 'apps' && f.format !== 'verl')
    throw new Error('--ground-truth apps is for --format verl (its built-in code scorer reads it).');
  if (trainer && /\.(jsonl|parquet|pq)$/i.test(f.out))
    throw new Error(`--format ${f.format} writes a directory (train.*, cairn_reward.py, README.md): give --out DIR, not ${f.out}.`);
  return {
    batchId: f.batch,
    out: f.out,
    min: f.all ? 0 : f.min,
    max: f.all ? 1 : f.max,
    bins: set,
    format: trainer ? (f.format as TrainerFormat) : formatFor(f.out, f.format),
    testFraction: f.testFraction,
    groundTruth: f.groundTruth as GroundTruthStyle | undefined,
    flatten: !!f.flatten,
    flattenTarget: f.flattenTarget === undefined ? undefined : parseFlattenTarget(f.flattenTarget, set),
    seed: f.seed,
    curriculum: curriculum && { name: curriculum, steps: f.steps as number, batchSize: f.batchSize as number },
  };
}

export function exportCommand(): Command {
  return new Command('export')
    .description(
      'write a dataset (JSONL or Parquet, or a verl / TRL / OpenRLHF directory with cairn_reward.py and a dataset card): graded, non-duplicate problems with min <= pass rate <= max, binned by difficulty; optionally flattened, with a curriculum plan',
    )
    .requiredOption('--batch <id>', 'batch id (repeat, or comma-separate, to export several batches into one file)', collect)
    .requiredOption('--out <file>', 'output file (.jsonl, or .parquet); a directory for verl, trl and openrlhf')
    .option('--format <fmt>', `${[...DATASET_FORMATS, ...TRAINER_FORMATS].join(' | ')} (default: from the extension of --out)`)
    .option('--test-fraction <f>', 'trainer formats: hold out this share of records (by a hash of the id) in test.*', Number)
    .option(
      '--ground-truth <style>',
      'verl: cairn (default; graded by cairn_reward.py) | apps (induction as {"inputs","outputs","fn_name"} for verl\'s built-in code scorer)',
    )
    .option('--min <p>', 'lowest pass rate kept', unitFloat('--min'), DEFAULT_BAND.min)
    .option('--max <p>', 'highest pass rate kept', unitFloat('--max'), DEFAULT_BAND.max)
    .option('--all', 'keep every graded problem (same as --min 0 --max 1)')
    .option('--bins <set>', `bin set for difficulty_bin: ${BIN_SET_NAMES.join(' | ')} (default broad, or the curriculum's)`)
    .option('--flatten', 'downsample to equal counts per bin (records in no bin are dropped)')
    .option('--flatten-target <spec>', 'relative counts per bin for --flatten, e.g. hard=1,medium=2,easy=1')
    .option('--seed <s>', 'sampling seed for --flatten', '0')
    .option('--curriculum <name>', `also write <out>.curriculum.json, the sampling plan: ${CURRICULUM_NAMES.join(' | ')}`)
    .option('--steps <n>', "RL steps of the run the plan is for (the paper's 40K-step ranges are scaled to it)", positiveInt('--steps'))
    .option('--batch-size <b>', 'problems per RL step (the plan gives per-bin counts per batch)', positiveInt('--batch-size'))
    .action(async (f: Flags) => {
      try {
        const o = exportOptions(f);
        await withDb(async ({ db }) => {
          const missing = await missingBatches(db, f.batch);
          if (missing.length) throw new Error(`No batch ${missing.join(', ')} in Postgres; nothing to export.`);
          const r = await exportBatch(db, o);
          console.log(formatBinHistogram(r.before, r.binSet, `in band ${o.min}-${o.max}`));
          if (r.after) console.log(formatBinHistogram(r.after, r.binSet, 'after --flatten'));
          for (const w of r.warnings) console.log(`warning: ${w}`);
          if (r.trainer) {
            console.log(
              `wrote ${r.trainer.counts.train} train${r.trainer.counts.test ? ` + ${r.trainer.counts.test} test` : ''} records (${r.format}) to ${r.file}: ${r.trainer.files.map((x) => x.split('/').pop()).join(', ')}, cairn_reward.py, README.md`,
            );
          } else {
            console.log(`wrote ${r.written} records (${r.format}) to ${r.file}`);
          }
          if (r.plan) console.log(`${formatCurriculumPlan(r.plan)}\nwrote the plan to ${r.planFile}`);
          if (r.format === 'jsonl' && !r.plan)
            console.log(
              `next: Parquet for Hugging Face datasets with --out ${f.out.replace(/\.jsonl$/, '')}.parquet; a sampling plan with --curriculum soft --steps N --batch-size B`,
            );
        });
      } catch (err) {
        fail(err);
      }
    });
}
