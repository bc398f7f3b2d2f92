/**
 * `cairn export --format verl|trl|openrlhf --out DIR`: trainer-ready files in DIR.
 *
 * - verl: train.parquet (and test.parquet with --test-fraction) with data_source, prompt (chat
 *   messages), ability, reward_model {style, ground_truth}, extra_info.
 * - trl: train.parquet with a conversational `prompt` column, `ground_truth` (what the reward
 *   reads, passed to it by GRPOTrainer as a keyword), data_source, and the record's facts as columns.
 * - openrlhf: train.jsonl with `input` (chat messages, for --apply_chat_template) and `label`.
 * Always beside them: cairn_reward.py (one reward for all three, graded as Cairn grades) and
 * README.md (a Hugging Face dataset card).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Field, Float64, Int32, Int64, List, Struct, Utf8 } from 'apache-arrow';
import type { Database } from '../../db/client';
import { recordPages, type ExportRecord } from './records';
import { writeRewardFile } from './reward-file';
import {
  batchGrading,
  cairnGroundTruth,
  refCpu,
  splitOf,
  trainerRow,
  type GroundTruthStyle,
  type TrainerFormat,
  type TrainerRow,
} from './trainer';
import { atomically, writeParquetRows, type ParquetColumn } from './writers';
import type { BinSetName } from './bins';

export interface TrainerExportOptions {
  dir: string;
  format: TrainerFormat;
  batchIds: string[];
  ids: number[];
  binSet: BinSetName;
  testFraction: number;
  groundTruth: GroundTruthStyle;
}

export interface TrainerExportResult {
  files: string[];
  counts: { train: number; test: number };
  rows: { env: string; pass_rate: number; bin: string | null; split: string }[];
  warnings: string[];
  rewardFile: string;
}

const APPS_SCRIPT = path.join(__dirname, 'apps_gt.py');

/** APPS-style {"inputs", "outputs", "fn_name"} JSON per induction record, or null where JSON cannot carry the values exactly. */
function appsTruths(recs: readonly ExportRecord[], cairn: (r: ExportRecord) => string): (string | null)[] {
  if (!recs.length) return [];
  const r = spawnSync('python3', ['-I', APPS_SCRIPT], {
    input: recs.map((x) => JSON.stringify({ inputs: x.inputs, outputs: x.outputs })).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`--ground-truth apps: python3 ${APPS_SCRIPT} failed: ${(r.stderr || String(r.error)).trim()}`);
  const lines = r.stdout.trim().split('\n');
  return recs.map((x, i) => {
    const c = JSON.parse(lines[i] ?? '{}') as { inputs?: string; outputs?: string };
    if (c.inputs === undefined || c.outputs === undefined) return null;
    // Built as text so the APPS values keep Python's spelling (3.0, big ints); `cairn` lets cairn_reward.py grade it exactly.
    return `{"inputs": ${c.inputs}, "outputs": ${c.outputs}, "fn_name": "f", "cairn": ${cairn(x)}}`;
  });
}

const str = () => new Utf8();
const MSG = () => new List(new Field('item', new Struct([new Field('role', str(), false), new Field('content', str(), false)]), true));
const EXTRA = () =>
  new Struct([
    new Field('id', new Int64(), false),
    new Field('batch_id', str(), false),
    new Field('env', str(), false),
    new Field('split', str(), false),
    new Field('pass_rate', new Float64(), false),
    new Field('pass_rate_low', new Float64(), false),
    new Field('pass_rate_high', new Float64(), false),
    new Field('attempts', new Int32(), false),
    new Field('passed', new Int32(), false),
    new Field('difficulty_bin', str(), true),
    new Field('chain_id', str(), false),
    new Field('parent_id', new Int64(), true),
    new Field('turn', new Int32(), false),
    new Field('level', str(), true),
    new Field('seed_id', str(), false),
    new Field('seed_source', str(), true),
  ]);
const extra = (r: TrainerRow) => ({
  ...r.extra_info,
  id: BigInt(r.extra_info.id),
  parent_id: r.extra_info.parent_id === null ? null : BigInt(r.extra_info.parent_id),
});

const VERL: ParquetColumn<TrainerRow>[] = [
  ['data_source', str, (r) => r.data_source],
  ['prompt', MSG, (r) => r.prompt],
  ['ability', str, (r) => r.ability],
  ['reward_model', () => new Struct([new Field('style', str(), false), new Field('ground_truth', str(), false)]), (r) => r.reward_model],
  ['extra_info', EXTRA, extra],
];

const TRL: ParquetColumn<TrainerRow>[] = [
  ['prompt', MSG, (r) => r.prompt],
  ['ground_truth', str, (r) => r.reward_model.ground_truth],
  ['data_source', str, (r) => r.data_source],
  ['id', () => new Int64(), (r) => BigInt(r.extra_info.id)],
  ['env', str, (r) => r.extra_info.env],
  ['pass_rate', () => new Float64(), (r) => r.extra_info.pass_rate],
  ['difficulty_bin', str, (r) => r.extra_info.difficulty_bin],
  ['extra_info', EXTRA, extra],
];

type Summary = TrainerExportResult['rows'];
interface Tally {
  unconverted: number;
  notInduction: number;
}

/** Rows of `ids` (one split), page by page; what the card needs of each row goes into `summary`. */
async function* rowPages(
  db: Database,
  o: TrainerExportOptions,
  ids: number[],
  split: string,
  summary: Summary,
  tally: Tally,
): AsyncGenerator<TrainerRow[]> {
  const grading = await batchGrading(db, o.batchIds);
  for await (const page of recordPages(db, ids, o.binSet)) {
    const refs = await refCpu(
      db,
      page.map((r) => r.id),
    );
    const g = (r: ExportRecord) => {
      const b = grading.get(r.batch_id);
      if (!b) throw new Error(`batch ${r.batch_id}: no recorded settings`);
      return b;
    };
    const cairn = (r: ExportRecord) => JSON.stringify(cairnGroundTruth(r, g(r), refs.get(r.id) ?? []));
    let apps: (string | null)[] = page.map(() => null);
    if (o.groundTruth === 'apps') {
      const ind = page.filter((r) => r.env === 'induction');
      tally.notInduction += page.length - ind.length;
      const conv = appsTruths(ind, cairn);
      const byId = new Map(ind.map((r, i) => [r.id, conv[i] ?? null]));
      apps = page.map((r) => byId.get(r.id) ?? null);
      tally.unconverted += ind.filter((r) => byId.get(r.id) === null).length;
    }
    for (const r of page) summary.push({ env: r.env, pass_rate: r.pass_rate, bin: r.difficulty_bin, split });
    yield page.map((r, i) => trainerRow(r, g(r), refs.get(r.id) ?? [], split, apps[i] ?? null));
  }
}

function tallyWarnings({ unconverted, notInduction }: Tally): string[] {
  const warnings: string[] = [];
  if (unconverted)
    warnings.push(
      `--ground-truth apps: ${unconverted} induction records use values JSON cannot carry exactly (tuples, sets, bytes, non-string keys, nan); they keep Cairn's ground truth (data_source cairn/induction) and need cairn_reward.py.`,
    );
  if (notInduction)
    warnings.push(
      `--ground-truth apps: ${notInduction} records are not induction; they keep Cairn's ground truth and need cairn_reward.py.`,
    );
  return warnings;
}

/** Writes one split's file, streamed page by page (the split of an id is known before its row is read). */
async function writeSplit(
  db: Database,
  o: TrainerExportOptions,
  split: string,
  ids: number[],
  summary: Summary,
  tally: Tally,
): Promise<string> {
  const pages = rowPages(db, o, ids, split, summary, tally);
  if (o.format === 'openrlhf') {
    const file = path.join(o.dir, `${split}.jsonl`);
    await atomically(file, async (tmp) => {
      const fd = fs.openSync(tmp, 'w');
      try {
        for await (const page of pages) {
          fs.writeSync(
            fd,
            page
              .map(
                (r) =>
                  JSON.stringify({
                    input: r.prompt,
                    label: r.reward_model.ground_truth,
                    data_source: r.data_source,
                    id: r.extra_info.id,
                    extra_info: r.extra_info,
                  }) + '\n',
              )
              .join(''),
          );
        }
      } finally {
        fs.closeSync(fd);
      }
    });
    return file;
  }
  const file = path.join(o.dir, `${split}.parquet`);
  await writeParquetRows(file, pages, o.format === 'verl' ? VERL : TRL, { cairn: JSON.stringify({ format: o.format, split }) });
  return file;
}

export async function exportTrainer(db: Database, o: TrainerExportOptions): Promise<TrainerExportResult> {
  fs.mkdirSync(o.dir, { recursive: true });
  const summary: Summary = [];
  const tally: Tally = { unconverted: 0, notInduction: 0 };
  const test = o.ids.filter((id) => splitOf(id, o.testFraction) === 'test');
  const train = o.ids.filter((id) => splitOf(id, o.testFraction) === 'train');
  const files = [await writeSplit(db, o, 'train', train, summary, tally)];
  if (o.testFraction > 0) files.push(await writeSplit(db, o, 'test', test, summary, tally));
  return {
    files,
    warnings: tallyWarnings(tally),
    rewardFile: writeRewardFile(o.dir),
    counts: { train: train.length, test: o.testFraction > 0 ? test.length : 0 },
    rows: summary,
  };
}
