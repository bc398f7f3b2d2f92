/**
 * The dataset card (README.md beside a trainer export): Hugging Face front matter (so the Hub and
 * `datasets` find the splits), counts, environments, bins, a pass-rate histogram, the batches'
 * recorded settings and what their workers used, and how to load it with datasets, verl, TRL and
 * OpenRLHF.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { listProvenance } from '../../db/queries/provenance';
import { batches, problems } from '../../db/schema';
import { BIN_SETS, type Band, type BinSetName } from './bins';
import type { GroundTruthStyle, TrainerFormat } from './trainer';
import type { TrainerExportResult } from './trainer-export';

export interface CardInput {
  dir: string;
  format: TrainerFormat;
  batchIds: string[];
  band: Band;
  binSet: BinSetName;
  result: TrainerExportResult;
  groundTruth: GroundTruthStyle;
  testFraction: number;
}

function sizeCategory(n: number): string {
  if (n < 1000) return 'n<1K';
  if (n < 10_000) return '1K<n<10K';
  if (n < 100_000) return '10K<n<100K';
  if (n < 1_000_000) return '100K<n<1M';
  return '1M<n<10M';
}

/** Ten buckets of width 0.1 (the last one closed), as a text bar chart. */
export function passRateHistogram(rates: readonly number[]): string {
  const counts = Array<number>(10).fill(0);
  for (const p of rates) counts[Math.min(9, Math.floor(p * 10))]! += 1;
  const top = Math.max(1, ...counts);
  return counts
    .map((c, i) => `${(i / 10).toFixed(1)}-${((i + 1) / 10).toFixed(1)} ${'#'.repeat(Math.round((c / top) * 40)).padEnd(40)} ${c}`)
    .join('\n');
}

const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function loading(format: TrainerFormat, hasTest: boolean): string {
  const ext = format === 'openrlhf' ? 'jsonl' : 'parquet';
  const files = hasTest ? `{"train": "train.${ext}", "test": "test.${ext}"}` : `{"train": "train.${ext}"}`;
  const common = [
    '```python',
    'from datasets import load_dataset',
    `ds = load_dataset("${format === 'openrlhf' ? 'json' : 'parquet'}", data_files=${files})`,
    '```',
  ];
  const how: Record<TrainerFormat, string[]> = {
    verl: [
      '```bash',
      'python3 -m verl.trainer.main_ppo data.train_files=train.parquet' + (hasTest ? ' data.val_files=test.parquet' : '') + ' \\',
      '    custom_reward_function.path=cairn_reward.py custom_reward_function.name=compute_score ...',
      '```',
    ],
    trl: [
      '```python',
      'from trl import GRPOConfig, GRPOTrainer',
      'from cairn_reward import cairn_reward   # reads the ground_truth column',
      'trainer = GRPOTrainer(model=..., reward_funcs=[cairn_reward], train_dataset=ds["train"], args=GRPOConfig(...))',
      '```',
    ],
    openrlhf: [
      '```bash',
      'python -m openrlhf.cli.train_ppo_ray --prompt_data train.jsonl --input_key input --label_key label \\',
      '    --apply_chat_template --remote_rm_url cairn_reward.py ...',
      '```',
    ],
  };
  return [...common, '', ...how[format]].join('\n');
}

export async function writeCard(db: Database, c: CardInput): Promise<string> {
  const rows = c.result.rows;
  const settings = await db.select({ id: batches.id, settings: batches.settings }).from(batches).where(inArray(batches.id, c.batchIds));
  // Left out before any student compute (reported as `cairn batch status` does).
  const kept = await db
    .select({ status: problems.status, reason: problems.invalidReason })
    .from(problems)
    .where(inArray(problems.batchId, c.batchIds));
  const dups = kept.filter((p) => p.status === 'duplicate');
  const near = dups.filter((p) => p.reason?.startsWith('Near-duplicate:')).length;
  const contaminated = kept.filter((p) => p.status === 'invalid' && p.reason?.startsWith('Contaminated:')).length;
  const prov = await Promise.all(c.batchIds.map(async (id) => ({ id, rows: await listProvenance(db, id) })));
  const ext = c.format === 'openrlhf' ? 'jsonl' : 'parquet';
  const hasTest = c.testFraction > 0;
  const envs = [...new Set(rows.map((r) => r.env))].sort();
  const bins = BIN_SETS[c.binSet];
  const front = [
    '---',
    `pretty_name: "Cairn curriculum (${c.batchIds.join(', ')})"`,
    'license: other',
    'language:',
    '- en',
    'task_categories:',
    '- text-generation',
    'tags:',
    '- code',
    '- reinforcement-learning',
    '- synthetic',
    '- cairn',
    `- ${c.format}`,
    'size_categories:',
    `- ${sizeCategory(rows.length)}`,
    'configs:',
    '- config_name: default',
    '  data_files:',
    '  - split: train',
    `    path: train.${ext}`,
    ...(hasTest ? ['  - split: test', `    path: test.${ext}`] : []),
    '---',
  ];
  const body = [
    `# Cairn curriculum: ${c.batchIds.join(', ')}`,
    '',
    `Verified Python problems made by [Cairn](https://arxiv.org/abs/2603.24202) (teacher writes a problem, the sandbox executes it for gold outputs, the student attempts it M times, the pass rate is its difficulty), in ${c.format} format. ` +
      `Records: graded, non-duplicate problems with ${c.band.min} <= pass rate <= ${c.band.max}. Each prompt is the student's prompt exactly as Cairn's student saw it; ` +
      '`cairn_reward.py` grades an answer the way Cairn graded the student (see its docstring for what isolation it gives and what it does not).',
    '',
    '## Counts',
    table(
      ['environment', 'train', ...(hasTest ? ['test'] : []), 'mean pass rate'],
      envs.map((e) => {
        const of = rows.filter((r) => r.env === e);
        const mean = of.reduce((a, r) => a + r.pass_rate, 0) / Math.max(1, of.length);
        return [
          e,
          of.filter((r) => r.split === 'train').length,
          ...(hasTest ? [of.filter((r) => r.split === 'test').length] : []),
          mean.toFixed(3),
        ];
      }),
    ),
    '',
    `Total: ${c.result.counts.train} train${hasTest ? `, ${c.result.counts.test} test (held out by a hash of the id, fraction ${c.testFraction})` : ''}.`,
    '',
    `Left out before the student saw them: ${dups.length - near} exact duplicates (same code, or the same up to names and layout), ` +
      `${near} near-duplicates (MinHash similarity of normalized code at or above the batch's \`nearDup\` threshold) and ` +
      `${contaminated} problems too close to a public benchmark problem (contaminated).`,
    '',
    `## Difficulty bins (${c.binSet})`,
    table(
      ['bin', 'pass rate', 'records'],
      [
        ...bins.map((b) => [b.name, `${b.min}-${b.max}`, rows.filter((r) => r.bin === b.name).length]),
        ['(none)', '', rows.filter((r) => r.bin === null).length],
      ],
    ),
    '',
    '## Pass-rate histogram',
    '```',
    passRateHistogram(rows.map((r) => r.pass_rate)),
    '```',
    '',
    '## How it was made',
    "Each batch's settings as recorded when it started, and what its workers used:",
    '',
    ...settings.flatMap((s) => {
      const p = prov.find((x) => x.id === s.id)?.rows ?? [];
      return [
        `### ${s.id}`,
        '```json',
        JSON.stringify(s.settings, null, 2),
        '```',
        ...(p.length ? ['Workers used:', '', ...p.map((r) => `- ${r.role}: \`${JSON.stringify(r.details)}\``), ''] : []),
      ];
    }),
    '## Fields',
    c.format === 'verl'
      ? '`data_source` (`cairn/<environment>`; `apps` for APPS-style ground truths), `prompt` (chat messages), `ability` (`code`), `reward_model` {`style`: `rule`, `ground_truth`: JSON text}, `extra_info` (id, batch_id, env, split, pass_rate with its 95% Wilson interval, attempts, passed, difficulty_bin, chain_id, parent_id, turn, level, seed_id, seed_source).'
      : c.format === 'trl'
        ? '`prompt` (chat messages), `ground_truth` (JSON text, read by `cairn_reward`), `data_source`, `id`, `env`, `pass_rate`, `difficulty_bin`, `extra_info` (as in the verl export).'
        : '`input` (chat messages), `label` (the ground truth as JSON text, read by `reward_func`), `data_source`, `id`, `extra_info`.',
    '',
    c.groundTruth === 'apps'
      ? 'Induction ground truths are APPS-style (`{"inputs", "outputs", "fn_name"}`, with data_source `apps`) for verl\'s built-in code scorer. That scorer compares with `==` after turning tuples into lists, so it is laxer than Cairn (1 == True there); `cairn_reward.py` grades the same rows exactly as Cairn (it reads the `cairn` key).\n'
      : '',
    '## Loading',
    loading(c.format, hasTest),
    '',
  ];
  const file = path.join(c.dir, 'README.md');
  fs.writeFileSync(file, [...front, '', ...body].join('\n'));
  return file;
}
