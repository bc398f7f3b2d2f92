import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { getBatch, listBatches, seedCounts } from '../../db/queries/batches';
import { batchSummary } from '../../db/queries/stats';
import { batchTokenUse, costOf } from '../../db/queries/cost';
import { loadConfig } from '../../workers/config/load-config';
import { progressQuery } from '../../workflows/contracts/messages';
import { listProvenance } from '../../db/queries/provenance';
import { BATCH_DEFAULTS, batchWorkflowId, parseBatchSettings, parseChainBinsSpec, type BatchProgress } from '../../workflows/contracts';
import {
  cancelBatch,
  formatCost,
  formatSettings,
  pauseBatch,
  resizeBatch,
  formatSummary,
  newBatchId,
  resumeBatch,
  runningBatchStates,
  startBatch,
  uiUrl,
  validateBatchOptions,
} from '../lib';
import { preflight } from '../lib/preflight';
import { adoptDevLlm, fail, nonNegativeInt, positiveFloat, positiveInt, unitFloat, withClient, withDb } from './options';
import { reportCommand } from './report';

function startCommand(): Command {
  return new Command('start')
    .description('load a seed file into Postgres (streaming, idempotent) and start the batch workflow')
    .requiredOption('--seeds <file>', 'seed file (JSONL: {"id","snippet"} per line)')
    .option('--batch <id>', 'batch id (default: a new time-based id); starting an existing batch again loads nothing twice')
    .option('--turns <n>', 'teacher turns per seed', positiveInt('--turns'), BATCH_DEFAULTS.turns)
    .option('--attempts <m>', 'student attempts per problem (M)', positiveInt('--attempts'), BATCH_DEFAULTS.attempts)
    .option(
      '--sampling <how>',
      'fixed (M attempts per valid problem, the paper) | adaptive (rounds of 4, 8, 16, ... up to M, stopping once the pass rate settles its use)',
      BATCH_DEFAULTS.sampling,
    )
    .option(
      '--confidence <level>',
      "confidence level of each problem's pass-rate interval (Wilson), which adaptive sampling stops on",
      unitFloat('--confidence'),
      BATCH_DEFAULTS.confidence,
    )
    .option(
      '--env <spec>',
      'environment, or a weighted mix: induction | abduction | deduction | fuzzing, e.g. induction=2,deduction,fuzzing',
      BATCH_DEFAULTS.env,
    )
    .option(
      '--mode <mode>',
      'multi (the multi-turn loop) | single (independent teacher calls, the baseline) | chain (hard, then medium and easy variants)',
      BATCH_DEFAULTS.mode,
    )
    .option(
      '--dedup <scope>',
      'drop duplicate problems before the student sees them: global (within and across batches) | batch | off',
      BATCH_DEFAULTS.dedup,
    )
    .option(
      '--near-dup <threshold>',
      'also drop near-copies (in the --dedup scope) before the student sees them: a MinHash similarity threshold of normalized code, e.g. 0.8 | off',
      BATCH_DEFAULTS.nearDup,
    )
    .option(
      '--decontam <set>',
      'check problems against public benchmarks by n-gram overlap before the student sees them (contaminated ones are not graded): humaneval | off',
      'humaneval',
    )
    .option('--chain-bins <spec>', "chain mode's target pass-rate bins, e.g. hard=0.05-0.16,medium=0.41-0.59,easy=0.81-0.91 (the paper's)")
    .option(
      '--visible-pairs <n>',
      'induction: input/output pairs the student sees (the rest are hidden tests)',
      nonNegativeInt('--visible-pairs'),
      BATCH_DEFAULTS.visiblePairs,
    )
    .option(
      '--time-limit-ms <ms>',
      "per-input CPU-time floor for the teacher's code and for attempts",
      positiveInt('--time-limit-ms'),
      BATCH_DEFAULTS.timeLimitMs,
    )
    .option(
      '--time-slack <k>',
      "an attempt's limit is max(floor, k x the reference's CPU time on that input)",
      positiveInt('--time-slack'),
      BATCH_DEFAULTS.timeSlack,
    )
    .option(
      '--truncated <how>',
      'student answers cut at max tokens (finish_reason length): exclude (left out of the pass rate) | fail (counted as failures)',
      BATCH_DEFAULTS.truncated,
    )
    .option(
      '--sample-salt <salt>',
      'sample afresh on the same seeds: the salt joins every LLM request (cache key and seed), so answers cached by earlier batches are not replayed',
    )
    .option('--window <n>', 'most seeds open at once (default: 4 x (teacher + student concurrency))', positiveInt('--window'))
    .option(
      '--budget <usd>',
      'pause the batch with the reason once its LLM spend reaches this many USD (prices from CAIRN_PRICES)',
      positiveFloat('--budget'),
    )
    .option('--paused', 'load the seeds and start the batch paused (`cairn batch resume` starts it)')
    .option('--skip-bad', 'skip bad lines of the seed file (and report each) instead of stopping')
    .option('--no-preflight', 'do not check the LLM endpoints (key, model) before starting')
    .action(
      async (o: {
        seeds: string;
        batch?: string;
        turns: number;
        attempts: number;
        sampling: string;
        confidence: number;
        env: string;
        mode: string;
        dedup: string;
        nearDup: string;
        decontam: string;
        chainBins?: string;
        visiblePairs: number;
        timeLimitMs: number;
        timeSlack: number;
        truncated: string;
        sampleSalt?: string;
        window?: number;
        budget?: number;
        paused?: boolean;
        skipBad?: boolean;
        preflight: boolean;
      }) => {
        try {
          const opts = {
            turns: o.turns,
            attempts: o.attempts,
            sampling: o.sampling,
            confidence: o.confidence,
            env: o.env,
            mode: o.mode,
            dedup: o.dedup,
            nearDup: o.nearDup,
            decontam: o.decontam,
            ...(o.chainBins ? { chainBins: parseChainBinsSpec(o.chainBins) } : {}),
            visiblePairs: o.visiblePairs,
            timeLimitMs: o.timeLimitMs,
            timeSlack: o.timeSlack,
            truncated: o.truncated,
            ...(o.sampleSalt ? { sampleSalt: o.sampleSalt } : {}),
            ...(o.budget !== undefined ? { budgetUsd: o.budget } : {}),
            window: o.window,
            paused: o.paused,
            skipBad: o.skipBad,
          };
          validateBatchOptions({ ...opts, seedFile: o.seeds, batchId: o.batch });
          if (adoptDevLlm()) console.log('using the local model of the running `cairn dev --llm local` stack');
          if (o.preflight) await preflight(loadConfig());
          await withDb(({ cfg, db }) =>
            withClient(cfg, async (client) => {
              const batchId = o.batch ?? newBatchId();
              console.log(
                `batch ${batchId}: loading ${o.seeds} (if this is interrupted, run the same command again or \`npx cairn batch resume --batch ${batchId}\`)`,
              );
              const r = await startBatch(db, client, cfg, { ...opts, seedsFile: o.seeds, batchId });
              for (const b of r.load.bad) console.log(`skipped ${o.seeds}:${b.line}: ${b.reason}`);
              console.log(
                `loaded ${r.load.total} seeds (${r.load.inserted} new, ${r.load.bad.length} bad lines skipped) in ${(r.load.ms / 1000).toFixed(1)} s; batch has ${r.totalSeeds} seeds`,
              );
              if (r.existed) console.log('this batch existed: its recorded settings are used');
              console.log(
                `settings: ${r.settings.mode} mode, env ${r.settings.envWeights ? JSON.stringify(r.settings.envWeights) : r.settings.env}, ${r.settings.turns} turns, M=${r.settings.attempts}${r.settings.sampling === 'adaptive' ? ` (adaptive, ${r.settings.confidence} confidence)` : ''}, dedup ${r.settings.dedup}${r.settings.nearDup === 'off' ? '' : ` (near-dup ${r.settings.nearDup})`}, window ${r.window}${o.paused ? ', PAUSED' : ''}`,
              );
              console.log(`watch:  npx cairn batch status --batch ${batchId} --watch`);
              console.log(`UI:     ${uiUrl(cfg, batchId)}`);
              console.log(`export: npx cairn export --batch ${batchId} --out out/${batchId}.jsonl`);
            }),
          );
        } catch (err) {
          fail(err);
        }
      },
    );
}

function statusCommand(): Command {
  return new Command('status')
    .description("a batch's progress from Postgres: seeds, problems per turn, validity, pass rates, LLM calls")
    .requiredOption('--batch <id>', 'batch id')
    .option('--json', 'print JSON instead of text')
    .option('--watch', 'draw a live progress bar until the batch finishes (Ctrl-C to stop watching)')
    .action(async (o: { batch: string; json?: boolean; watch?: boolean }) => {
      try {
        await withDb(async ({ cfg, db }) => {
          const batch = await getBatch(db, o.batch);
          if (!batch) throw new Error(`No batch ${o.batch} in Postgres. Start one with \`npx cairn batch start --seeds FILE\`.`);
          if (o.watch) await watch(async () => seedCounts(db, o.batch));
          const s = await batchSummary(db, o.batch);
          const live = await batchProgress(cfg, o.batch);
          const settings = parseBatchSettings(batch.settings, o.batch);
          const used = await listProvenance(db, o.batch);
          const cost = costOf(await batchTokenUse(db, o.batch), cfg.prices);
          if (live?.stopReason && !o.json) console.log(`BATCH PAUSED ITSELF: ${live.stopReason}`);
          if (o.json)
            console.log(
              JSON.stringify({ ...s, cost, loaded: batch.loadedAt !== null, settings, workersUsed: used, workflow: live }, null, 2),
            );
          else
            console.log(
              `${formatSummary(s)}\n${formatCost(cost, s.exportable, settings.budgetUsd)}\n${formatSettings(settings, used)}${batch.loadedAt ? '' : '\nNOT FULLY LOADED: run `npx cairn batch resume` to finish loading'}\nUI: ${uiUrl(cfg, o.batch)}`,
            );
        });
      } catch (err) {
        fail(err);
      }
    });
}

async function watch(counts: () => Promise<{ pending: number; running: number; done: number; failed: number }>): Promise<void> {
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {percentage}% | {value}/{total} seeds | {running} running | {failed} failed | {rate} seeds/s | ETA {eta_formatted}',
      etaBuffer: 50,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let stop = false;
  const onInt = () => {
    stop = true;
  };
  process.once('SIGINT', onInt);
  const t0 = Date.now();
  let c = await counts();
  const total = c.pending + c.running + c.done + c.failed;
  const start = c.done + c.failed;
  bar.start(total, start, { running: c.running, failed: c.failed, rate: '0.00' });
  while (!stop && c.done + c.failed < total) {
    await new Promise((r) => setTimeout(r, 2000));
    c = await counts();
    const rate = (c.done + c.failed - start) / ((Date.now() - t0) / 1000);
    bar.update(c.done + c.failed, { running: c.running, failed: c.failed, rate: rate.toFixed(2) });
  }
  bar.stop();
  process.removeListener('SIGINT', onInt);
}

/** The batch workflow's live counters, or null when it is not reachable (best effort, 3 s). */
async function batchProgress(cfg: ReturnType<typeof loadConfig>, batchId: string): Promise<BatchProgress | null> {
  try {
    return await withClient(cfg, (client) =>
      Promise.race([
        client.workflow.getHandle(batchWorkflowId(batchId)).query(progressQuery),
        new Promise<null>((r) => setTimeout(() => r(null), 3000)),
      ]),
    );
  } catch {
    return null;
  }
}

function resumeCommand(): Command {
  return new Command('resume')
    .description(
      'run exactly the seeds that are not finished (failed, cancelled, terminated, never started), reusing finished turns and cached LLM calls; unpauses a paused batch',
    )
    .requiredOption('--batch <id>', 'batch id')
    .option(
      '--truncated <how>',
      'student answers cut at max tokens (finish_reason length): exclude (left out of the pass rate) | fail (counted as failures)',
      BATCH_DEFAULTS.truncated,
    )
    .option(
      '--sample-salt <salt>',
      'sample afresh on the same seeds: the salt joins every LLM request (cache key and seed), so answers cached by earlier batches are not replayed',
    )
    .option('--window <n>', 'most seeds open at once', positiveInt('--window'))
    .option('--budget <usd>', "raise a budgeted batch's budget (USD) before unpausing it", positiveFloat('--budget'))
    .action(async (o: { batch: string; window?: number; budget?: number }) => {
      try {
        await withDb(({ cfg, db }) =>
          withClient(cfg, async (client) => {
            const r = await resumeBatch(db, client, cfg, o.batch, { window: o.window, budgetUsd: o.budget });
            console.log(`batch ${o.batch}: ${r.message}; ${r.unfinished} seeds not finished`);
            console.log(`watch: npx cairn batch status --batch ${o.batch} --watch`);
          }),
        );
      } catch (err) {
        fail(err);
      }
    });
}

function listCommand(): Command {
  return new Command('list').description('all batches with their seed counts and workflow state').action(async () => {
    try {
      await withDb(async ({ cfg, db }) => {
        const rows = await listBatches(db);
        const states = await batchStates(cfg);
        if (rows.length === 0) console.log('no batches yet: npx cairn batch start --seeds FILE');
        for (const b of rows) {
          const s = b.settings as { env?: string; turns?: number; attempts?: number };
          console.log(
            `${b.id.padEnd(28)} ${(states ? (states.get(b.id) ?? '-') : '?').padEnd(9)} ${b.createdAt.toISOString().slice(0, 19)}  ${String(b.seedCount ?? '?').padStart(7)} seeds  done ${b.done}  running ${b.running}  failed ${b.failed}  ${s.env} T=${s.turns} M=${s.attempts}${b.loadedAt ? '' : '  (not fully loaded)'}`,
          );
        }
      });
    } catch (err) {
      fail(err);
    }
  });
}

/** Running batch workflows' states by batch id, or null when Temporal is not reachable (best effort, 5 s). */
async function batchStates(cfg: ReturnType<typeof loadConfig>): Promise<Map<string, string> | null> {
  try {
    return await Promise.race([
      withClient(cfg, (client) => runningBatchStates(client)),
      new Promise<null>((r) => setTimeout(() => r(null), 5000).unref()),
    ]);
  } catch {
    return null;
  }
}

/** pause | cancel | resize: updates on the running batch workflow. */
function controlCommand(name: 'pause' | 'cancel' | 'resize', description: string): Command {
  const cmd = new Command(name).description(description).requiredOption('--batch <id>', 'batch id');
  if (name === 'resize') cmd.requiredOption('--window <n>', 'new window', positiveInt('--window'));
  return cmd.action(async (o: { batch: string; window?: number }) => {
    try {
      await withClient(loadConfig(), async (client) => {
        const p =
          name === 'pause'
            ? await pauseBatch(client, o.batch)
            : name === 'cancel'
              ? await cancelBatch(client, o.batch)
              : await resizeBatch(client, o.batch, o.window as number);
        console.log(
          `batch ${o.batch}: ${name} done; open ${p.open}, window ${p.window}, paused ${p.paused}, cancelled ${p.cancelled}, finished ${p.finished}, failed ${p.failed}`,
        );
        if (name === 'cancel')
          console.log(`open seeds are being cancelled; \`npx cairn batch resume --batch ${o.batch}\` runs the unfinished ones later`);
        if (name === 'pause')
          console.log(`running seeds finish; no new ones start. \`npx cairn batch resume --batch ${o.batch}\` continues`);
      });
    } catch (err) {
      fail(err);
    }
  });
}

function progressCommand(): Command {
  return new Command('progress')
    .description("the batch workflow's live counters (a Temporal query)")
    .requiredOption('--batch <id>', 'batch id')
    .action(async (o: { batch: string }) => {
      try {
        await withClient(loadConfig(), async (client) => {
          console.log(JSON.stringify(await client.workflow.getHandle(batchWorkflowId(o.batch)).query(progressQuery), null, 2));
        });
      } catch (err) {
        fail(err);
      }
    });
}

export function batchCommand(): Command {
  return new Command('batch')
    .description('start, watch, control and report on batches of seeds')
    .addCommand(startCommand())
    .addCommand(statusCommand())
    .addCommand(resumeCommand())
    .addCommand(listCommand())
    .addCommand(controlCommand('pause', 'stop starting new seeds (running ones finish)'))
    .addCommand(controlCommand('resize', 'change how many seeds may be open at once'))
    .addCommand(controlCommand('cancel', 'cancel the batch: open seeds are cancelled and recorded; resume runs them later'))
    .addCommand(progressCommand())
    .addCommand(reportCommand());
}
