import { Command } from 'commander';
import { DEFAULT_BAND } from '../dataset/bins';
import { writeReport } from '../report/model';
import { fail, positiveInt, unitFloat, withDb } from './options';

interface Flags {
  batch: string;
  out: string;
  compare?: string | false;
  examples: number;
  min: number;
  max: number;
}

/** `cairn batch report`: a batch's report as one self-contained HTML page. */
export function reportCommand(): Command {
  return new Command('report')
    .description(
      'write a self-contained HTML report of a batch: problems and yield per turn, invalid reasons, pass-rate histograms, multi vs single-turn yield, chain examples, LLM calls and tokens',
    )
    .requiredOption('--batch <id>', 'batch id')
    .requiredOption('--out <file>', 'output file (.html)')
    .option('--compare <id>', 'compare yield with this batch (same seed snippets, other mode); default: picked when obvious')
    .option('--no-compare', 'no multi vs single-turn comparison')
    .option('--examples <n>', 'stepping-stone chains to show', positiveInt('--examples'), 3)
    .option('--min <p>', 'lowest pass rate counted as usable', unitFloat('--min'), DEFAULT_BAND.min)
    .option('--max <p>', 'highest pass rate counted as usable', unitFloat('--max'), DEFAULT_BAND.max)
    .action(async (f: Flags) => {
      try {
        if (f.min > f.max) throw new Error(`--min ${f.min} is above --max ${f.max}.`);
        await withDb(async ({ cfg, db }) => {
          const compare = f.compare === false ? null : f.compare;
          const { file, model: m } = await writeReport(db, {
            batchId: f.batch,
            out: f.out,
            compare,
            examples: f.examples,
            band: { min: f.min, max: f.max },
            prices: cfg.prices,
          });
          console.log(
            `batch ${m.batch.id} (${m.batch.mode}): ${m.totals.problems} problems, ${m.totals.valid} valid, ${m.totals.usable} usable`,
          );
          console.log(
            m.comparison
              ? `compared with ${m.comparison.other.id} (${m.comparison.other.mode}) on ${m.comparison.sharedSeeds} shared seeds`
              : m.comparisonNote,
          );
          console.log(`wrote ${file} (self-contained; open it in a browser)`);
        });
      } catch (err) {
        fail(err);
      }
    });
}
