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
  batchGrading, cairnGroundTruth, refCpu, splitOf, trainerRow, type GroundTruthStyle, type TrainerFormat, type TrainerRow,
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
    input: recs.map((x) => JSON.stringify({ inputs: x.inputs, outputs: x.outputs })).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 30,
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
const EXTRA = () => new Struct([
  new Field('id', new Int64(), false), new Field('batch_id', str(), false), new Field('env', str(), false), new Field('split', str(), false),
  new Field('pass_rate', new Float64(), false), new Field('pass_rate_low', new Float64(), false), new Field('pass_rate_high', new Float64(), false),
  new Field('attempts', new Int32(), false), new Field('passed', new Int32(), false), new Field('difficulty_bin', str(), true),
  new Field('chain_id', str(), false), new Field('parent_id', new Int64(), true), new Field('turn', new Int32(), false),
  new Field('level', str(), true), new Field('seed_id', str(), false), new Field('seed_source', str(), true),
]);
const extra = (r: TrainerRow) => ({ ...r.extra_info, id: BigInt(r.extra_info.id), parent_id: r.extra_info.parent_id === null ? null : BigInt(r.extra_info.parent_id) });

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

/** Rows of every chosen record, page by page, each tagged with its split. */
async function* rowPages(db: Database, o: TrainerExportOptions, warnings: string[]): AsyncGenerator<TrainerRow[]> {
  const grading = await batchGrading(db, o.batchIds);
  let unconverted = 0, notInduction = 0;
  for await (const page of recordPages(db, o.ids, o.binSet)) {
    const refs = await refCpu(db, page.map((r) => r.id));
    const g = (r: ExportRecord) => {
      const b = grading.get(r.batch_id);
      if (!b) throw new Error(`batch ${r.batch_id}: no recorded settings`);
      return b;
    };
    const cairn = (r: ExportRecord) => JSON.stringify(cairnGroundTruth(r, g(r), refs.get(r.id) ?? []));
    let apps: (string | null)[] = page.map(() => null);
    if (o.groundTruth === 'apps') {
      const ind = page.filter((r) => r.env === 'induction');
      notInduction += page.length - ind.length;
      const conv = appsTruths(ind, cairn);
      const byId = new Map(ind.map((r, i) => [r.id, conv[i] ?? null]));
      apps = page.map((r) => byId.get(r.id) ?? null);
      unconverted += ind.filter((r) => byId.get(r.id) === null).length;
    }
    yield page.map((r, i) => trainerRow(r, g(r), refs.get(r.id) ?? [], splitOf(r.id, o.testFraction), apps[i] ?? null));
  }
  if (unconverted) warnings.push(`--ground-truth apps: ${unconverted} induction records use values JSON cannot carry exactly (tuples, sets, bytes, non-string keys, nan); they keep Cairn's ground truth (data_source cairn/induction) and need cairn_reward.py.`);
  if (notInduction) warnings.push(`--ground-truth apps: ${notInduction} records are not induction; they keep Cairn's ground truth and need cairn_reward.py.`);
}

/** Splits one stream of row pages into per-split streams, buffering one page at a time per split. */
async function writeSplits(o: TrainerExportOptions, pages: AsyncGenerator<TrainerRow[]>): Promise<{ files: string[]; rows: TrainerRow[][] }> {
  // Rows are small next to a batch's attempts, and both splits are needed for the card: collect, then write.
  const train: TrainerRow[] = [], test: TrainerRow[] = [];
  for await (const page of pages) for (const r of page) (r.extra_info.split === 'test' ? test : train).push(r);
  const files: string[] = [];
  const write = async (name: string, rows: TrainerRow[]) => {
    const ext = o.format === 'openrlhf' ? 'jsonl' : 'parquet';
    const file = path.join(o.dir, `${name}.${ext}`);
    const chunks = async function* () { for (let i = 0; i < rows.length; i += 500) yield rows.slice(i, i + 500); };
    if (o.format === 'openrlhf') {
      await atomically(file, async (tmp) => {
        fs.writeFileSync(tmp, rows.map((r) => JSON.stringify({
          input: r.prompt, label: r.reward_model.ground_truth, data_source: r.data_source, id: r.extra_info.id, extra_info: r.extra_info,
        }) + '\n').join(''));
      });
    } else {
      await writeParquetRows(file, chunks(), o.format === 'verl' ? VERL : TRL, { cairn: JSON.stringify({ format: o.format, split: name }) });
    }
    files.push(file);
  };
  await write('train', train);
  if (o.testFraction > 0) await write('test', test);
  return { files, rows: [train, test] };
}

export async function exportTrainer(db: Database, o: TrainerExportOptions): Promise<TrainerExportResult> {
  fs.mkdirSync(o.dir, { recursive: true });
  const warnings: string[] = [];
  const { files, rows } = await writeSplits(o, rowPages(db, o, warnings));
  const all = rows.flat();
  return {
    files, warnings, rewardFile: writeRewardFile(o.dir),
    counts: { train: rows[0]?.length ?? 0, test: rows[1]?.length ?? 0 },
    rows: all.map((r) => ({ env: r.extra_info.env, pass_rate: r.extra_info.pass_rate, bin: r.extra_info.difficulty_bin, split: r.extra_info.split })),
  };
}
