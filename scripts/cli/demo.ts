/**
 * `cairn demo` (npm run demo): set up, start the stack unless `cairn dev` already runs, cut seeds
 * from the Python standard library, run a small batch with the simulator, print a summary, export.
 */
import path from 'node:path';
import { Command } from 'commander';
import { FILTER_BAND } from '../../workflows/method/numbers';
import { seedCounts } from '../../db/queries/batches';
import { batchSummary } from '../../db/queries/stats';
import { loadConfig } from '../../workers/config/load-config';
import type { batchWorkflow } from '../../workflows/batch-workflow';
import { batchWorkflowId, type Mode } from '../../workflows/contracts';
import { writeReport } from '../report/model';
import { formatSummary, newBatchId, startBatch, uiUrl } from '../lib';
import { exportBatch } from '../dataset/exporter';
import { cutSeeds, stdlibDir, writeSeedFile } from '../lib/seed-file';
import { setup } from '../stack/install';
import { failWhenDead, startStack, type Stack } from '../stack/dev-stack';
import { fail, llmChoice, localLlmOption, positiveInt, withClient, withDb, type LlmChoice } from './options';
import { readStackFile } from '../../workers/config/find-postgres';

interface DemoOptions {
  seeds?: number;
  turns?: number;
  attempts?: number;
  llm: LlmChoice;
  model?: string;
  batch?: string;
  env: string;
  mode: Mode;
  compareSingle?: boolean;
  cutSeed?: number;
}

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
    .option('--seeds <n>', 'seeds to cut from the Python standard library (default 12; 2 with --llm local)', positiveInt('--seeds'))
    .option('--turns <n>', 'turns per seed (default 3; 2 with --llm local)', positiveInt('--turns'))
    .option('--attempts <m>', 'student attempts per problem (default 8; 2 with --llm local)', positiveInt('--attempts'))
    .option(
      '--llm <which>',
      'sim (the configured endpoints; the simulator by default) | local (a real model on CPU: llama.cpp server, installed into .tools/)',
      llmChoice,
      'sim',
    )
    .option('--model <file.gguf>', 'with --llm local: serve this GGUF model instead of the bundled SmolLM2-135M-Instruct')
    .option('--batch <id>', 'batch id (default: a new one each run)')
    .option('--env <spec>', 'environment or weighted mix (see batch start)', 'induction')
    .option('--mode <mode>', 'multi | single | chain (chain also writes a curriculum plan)', 'multi')
    .option('--cut-seed <n>', 'which spans to cut from the standard library (default: a new cut each run)', positiveInt('--cut-seed'))
    .option('--compare-single', 'also run the single-turn baseline on the same seeds and compare yields in the report')
    .action(async (opts: DemoOptions) => {
      const t0 = Date.now();
      const say = (m: string) => console.log(`[demo] ${m}`);
      let stack: Stack | null = null;
      try {
        const local = localLlmOption(opts);
        // A real model on CPU is slow: a small batch unless asked for more.
        const small = local ? 2 : undefined;
        const o = { ...opts, seeds: opts.seeds ?? small ?? 12, turns: opts.turns ?? small ?? 3, attempts: opts.attempts ?? small ?? 8 };
        let cfg = loadConfig();
        await setup(cfg, { quiet: true });
        const running = readStackFile(cfg);
        if (alive(running.pid)) {
          if (local && !running.llmEnv)
            throw new Error(
              'a `cairn dev` stack is running without --llm local, and its workers use its endpoints: stop it, or start it with `npx cairn dev --llm local`.',
            );
          if (running.llmEnv) Object.assign(process.env, running.llmEnv);
          say(`using the running \`cairn dev\` stack${running.llmEnv ? ' (its local model)' : ''}`);
        } else stack = await startStack(cfg, { say, localLlm: local });
        cfg = loadConfig(); // with --llm local the endpoints now point at the local server
        // Our own stack's children are watched: one that dies fails the demo at once, with its log.
        const abort = new AbortController();
        const dead = stack ? failWhenDead(stack, abort) : null;
        const batchId = o.batch ?? `demo-${newBatchId().slice(1)}`;
        const seedsFile = path.join(cfg.dataDir, 'demo-seeds.jsonl');
        // A fresh cut each run (or --cut-seed S to repeat one): the same seeds would give the same
        // problems again, which dedup (rightly) rejects, and cached LLM answers.
        const cutSeed = o.cutSeed ?? Date.now() % 1_000_000;
        writeSeedFile(seedsFile, cutSeeds({ from: stdlibDir(), count: o.seeds, minLines: 25, maxLines: 50, ext: '.py', seed: cutSeed }));
        const out = path.join(cfg.root, 'out', `${batchId}.jsonl`);
        await withDb(({ db }) =>
          withClient(cfg, async (client) => {
            const run = async (id: string, mode: Mode) => {
              const r = await startBatch(db, client, cfg, {
                seedsFile,
                batchId: id,
                turns: o.turns,
                attempts: o.attempts,
                env: o.env,
                mode,
                dedup: 'batch',
              });
              say(
                `batch ${id} (${mode}): ${r.totalSeeds} seeds x ${o.turns} turns, M=${o.attempts}, env ${o.env}, seeds cut from ${stdlibDir()} (--cut-seed ${cutSeed})`,
              );
              const h = client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId(id));
              // Progress from Postgres, not a workflow query: a query waits for a workflow task, and
              // one left in flight when the connection closes retries onto a closed channel.
              let tick: Promise<unknown> = Promise.resolve();
              const ticker = setInterval(() => {
                tick = seedCounts(db, id).then(
                  (c) => say(`${id}: ${c.done + c.failed}/${r.totalSeeds} seeds finished, ${c.running} open`),
                  () => undefined,
                );
              }, 5000);
              // Aborted when a child of our stack dies, so that no long poll outlives the connection.
              const result = client.withAbortSignal(abort.signal, () => h.result());
              try {
                return await (dead ? Promise.race([result, dead]) : result);
              } finally {
                clearInterval(ticker);
                await Promise.allSettled([result, tick]);
              }
            };
            const results = [await run(batchId, o.mode)];
            const single = o.compareSingle ? `${batchId}-single` : null;
            if (single) results.push(await run(single, 'single'));
            const summary = await batchSummary(db, batchId);
            const ex = await exportBatch(db, {
              batchId,
              out,
              min: FILTER_BAND.min,
              max: FILTER_BAND.max,
              ...(o.mode === 'chain' ? { curriculum: { name: 'soft' as const, steps: 40_000, batchSize: 64 } } : {}),
            });
            const report = await writeReport(db, { batchId, out: out.replace(/\.jsonl$/, '.html'), compare: single });
            console.log('');
            console.log(formatSummary(summary));
            console.log(
              `dataset: ${ex.written} records in ${ex.file}${o.mode === 'chain' ? ` (+ curriculum plan ${ex.file}.curriculum.json)` : ''}`,
            );
            const c = report.model.comparison;
            if (c) {
              console.log(
                `multi vs single-turn on the same ${c.sharedSeeds} seeds: usable problems ${c.self.yield.usable} (${c.self.mode}) vs ${c.other.yield.usable} (${c.other.mode})` +
                  (c.multiOverSingle === null ? '' : `: ${c.multiOverSingle.toFixed(2)}x`),
              );
            }
            console.log(`report: ${report.file}`);
            console.log(`Temporal UI (filtered to the batch): ${uiUrl(cfg, batchId)}`);
            if (stack) console.log('  (the UI needs the stack: run `npx cairn dev`; the batch stays in .data/)');
            const failed = results.reduce((n, r) => n + r.failed, 0);
            console.log(`took ${((Date.now() - t0) / 1000).toFixed(1)} s; ${failed} seed workflows failed`);
            if (failed > 0) process.exitCode = 1;
          }),
        );
      } catch (err) {
        fail(err);
      } finally {
        if (stack) await stack.stop();
      }
    });
}
