import { Command } from 'commander';
import { getBatch } from '../../db/queries/batches';
import { DEFAULT_BAND, exportBatch } from '../export';
import { fail, unitFloat, withDb } from './common';

export function exportCommand(): Command {
  return new Command('export')
    .description('write a batch\'s dataset as JSONL (valid, graded problems with min <= pass rate <= max)')
    .requiredOption('--batch <id>', 'batch id')
    .requiredOption('--out <file>', 'output file (.jsonl)')
    .option('--min <p>', 'lowest pass rate kept', unitFloat('--min'), DEFAULT_BAND.min)
    .option('--max <p>', 'highest pass rate kept', unitFloat('--max'), DEFAULT_BAND.max)
    .option('--all', 'keep every graded problem (same as --min 0 --max 1)')
    .action(async (o: { batch: string; out: string; min: number; max: number; all?: boolean }) => {
      try {
        await withDb(async ({ db }) => {
          if (!(await getBatch(db, o.batch))) throw new Error(`No batch ${o.batch} in Postgres; nothing to export.`);
          const r = await exportBatch(db, { batchId: o.batch, out: o.out, min: o.all ? 0 : o.min, max: o.all ? 1 : o.max });
          console.log(`wrote ${r.written} records to ${r.file}`);
        });
      } catch (err) {
        fail(err);
      }
    });
}
