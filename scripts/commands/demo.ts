/**
 * `cairn demo` (npm run demo): set up, start the stack unless `cairn dev` already runs, cut seeds
 * from the Python standard library, run a small batch with the simulator, print a summary, export.
 */
import path from 'node:path';
import { Command } from 'commander';
import { listSeedIds } from '../../db/queries/batches';
import { batchSummary } from '../../db/queries/report';
import { loadConfig } from '../../workers/config';
import { seedWorkflowId } from '../../workflows/shared';
import { formatSummary, newBatchId, startBatch, uiUrl } from '../batch';
import { exportBatch } from '../export';
import { cutSeeds, stdlibDir, writeSeedFile } from '../seeds';
import { setup } from '../setup';
import { startStack } from '../stack';
import { fail, positiveInt, withClient, withDb } from './common';
import { readStackFile } from '../../workers/postgres';

interface DemoOptions { seeds: number; turns: number; attempts: number; batch?: string }

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('run a small batch end to end on the embedded stack with the simulator, then print a summary')
    .option('--seeds <n>', 'seeds to cut from the Python standard library', positiveInt('--seeds'), 12)
    .option('--turns <n>', 'turns per seed', positiveInt('--turns'), 3)
    .option('--attempts <m>', 'student attempts per problem', positiveInt('--attempts'), 8)
    .option('--batch <id>', 'batch id (default: a new one each run)')
    .action(async (o: DemoOptions) => {
      const t0 = Date.now();
      const say = (m: string) => console.log(`[demo] ${m}`);
      let stop: (() => Promise<void>) | null = null;
      try {
        const cfg = loadConfig();
        await setup(cfg, { quiet: true });
        if (alive(readStackFile(cfg).pid)) say('using the running `cairn dev` stack');
        else stop = (await startStack(cfg, { say })).stop;
        const batchId = o.batch ?? `demo-${newBatchId().slice(1)}`;
        const seedsFile = path.join(cfg.dataDir, 'demo-seeds.jsonl');
        writeSeedFile(seedsFile, cutSeeds({ from: stdlibDir(), count: o.seeds, minLines: 25, maxLines: 50, ext: '.py', seed: 7 }));
        const out = path.join(cfg.root, 'out', `${batchId}.jsonl`);
        await withDb(({ db }) => withClient(cfg, async (client) => {
          const r = await startBatch(db, client, cfg, { seedsFile, batchId, turns: o.turns, attempts: o.attempts, env: 'induction' });
          say(`batch ${batchId}: ${r.totalSeeds} seeds x ${o.turns} turns, M=${o.attempts}, seeds cut from ${stdlibDir()}`);
          let finished = 0;
          let failed = 0;
          const ticker = setInterval(() => say(`${finished + failed}/${r.totalSeeds} seeds finished ...`), 5000);
          try {
            await Promise.all((await listSeedIds(db, batchId)).map(async (seedId) => {
              try {
                await client.workflow.getHandle(seedWorkflowId(batchId, seedId)).result();
                finished++;
              } catch {
                failed++;
              }
            }));
          } finally {
            clearInterval(ticker);
          }
          const summary = await batchSummary(db, batchId);
          const ex = await exportBatch(db, { batchId, out, min: 0.01, max: 0.97 });
          console.log('');
          console.log(formatSummary(summary));
          console.log(`dataset: ${ex.written} records in ${ex.file}`);
          console.log(`Temporal UI (filtered to the batch): ${uiUrl(cfg, batchId)}`);
          if (stop) console.log('  (the UI needs the stack: run `npx cairn dev`; the batch stays in .data/)');
          console.log(`took ${((Date.now() - t0) / 1000).toFixed(1)} s; ${failed} seed workflows failed`);
          if (failed > 0) process.exitCode = 1;
        }));
      } catch (err) {
        fail(err);
      } finally {
        if (stop) await stop();
      }
    });
}
