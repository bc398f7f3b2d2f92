import { Command } from 'commander';
import { getBatch } from '../../db/queries/batches';
import { batchSummary } from '../../db/queries/report';
import type { EnvName } from '../../workflows/shared';
import { formatSummary, newBatchId, startBatch, uiUrl } from '../batch';
import { fail, positiveInt, withClient, withDb } from './common';

function startCommand(): Command {
  return new Command('start')
    .description('load a seed file into Postgres and start one workflow per seed')
    .requiredOption('--seeds <file>', 'seed file (JSONL: {"id","snippet"} per line)')
    .option('--batch <id>', 'batch id (default: a new time-based id); starting an existing batch again resumes it')
    .option('--turns <n>', 'teacher turns per seed', positiveInt('--turns'), 4)
    .option('--attempts <m>', 'student attempts per problem (M)', positiveInt('--attempts'), 8)
    .option('--env <name>', 'environment', 'induction')
    .action(async (o: { seeds: string; batch?: string; turns: number; attempts: number; env: string }) => {
      try {
        await withDb(({ cfg, db }) => withClient(cfg, async (client) => {
          const batchId = o.batch ?? newBatchId();
          const r = await startBatch(db, client, cfg, { seedsFile: o.seeds, batchId, turns: o.turns, attempts: o.attempts, env: o.env as EnvName });
          console.log(`batch ${r.batchId}${r.existed ? ' (existing: its recorded settings are used)' : ''}: ${r.totalSeeds} seeds (${r.seedsInserted} new), ${r.workflows} workflows started or running`);
          console.log(`settings: env ${r.settings.env}, ${r.settings.turns} turns, M=${r.settings.attempts}, teacher ${r.settings.teacherModel}, student ${r.settings.studentModel}`);
          console.log(`watch:  npx cairn batch status --batch ${r.batchId}`);
          console.log(`UI:     ${uiUrl(cfg, r.batchId)}`);
          console.log(`export: npx cairn export --batch ${r.batchId} --out out/${r.batchId}.jsonl`);
        }));
      } catch (err) {
        fail(err);
      }
    });
}

function statusCommand(): Command {
  return new Command('status')
    .description("a batch's progress from Postgres: seeds, problems per turn, validity, pass rates, LLM calls")
    .requiredOption('--batch <id>', 'batch id')
    .option('--json', 'print JSON instead of text')
    .action(async (o: { batch: string; json?: boolean }) => {
      try {
        await withDb(async ({ cfg, db }) => {
          if (!(await getBatch(db, o.batch))) throw new Error(`No batch ${o.batch} in Postgres. Start one with \`npx cairn batch start --seeds FILE\`.`);
          const s = await batchSummary(db, o.batch);
          if (o.json) console.log(JSON.stringify(s, null, 2));
          else console.log(`${formatSummary(s)}\nUI: ${uiUrl(cfg, o.batch)}`);
        });
      } catch (err) {
        fail(err);
      }
    });
}

export function batchCommand(): Command {
  return new Command('batch').description('start and watch batches of seeds').addCommand(startCommand()).addCommand(statusCommand());
}
