import { Command } from 'commander';
import { cutSeeds, stdlibDir, writeSeedFile } from '../lib/seed-file';
import { fail, positiveInt } from './options';

function cutCommand(): Command {
  return new Command('cut')
    .description('cut random spans of consecutive lines from source files into a seed file')
    .option('--from <dir>', 'directory of source files (default: the Python standard library on this machine)')
    .requiredOption('--out <file>', 'seed file to write (JSONL)')
    .option('--count <n>', 'how many seeds', positiveInt('--count'), 100)
    .option('--min-lines <n>', 'shortest span', positiveInt('--min-lines'), 25)
    .option('--max-lines <n>', 'longest span', positiveInt('--max-lines'), 50)
    .option('--ext <ext>', 'file ending to read', '.py')
    .option('--seed <n>', 'random seed (same seed, same cut)', (v) => Number(v), 0)
    .action((o: { from?: string; out: string; count: number; minLines: number; maxLines: number; ext: string; seed: number }) => {
      try {
        const from = o.from ?? stdlibDir();
        const seeds = cutSeeds({ from, count: o.count, minLines: o.minLines, maxLines: o.maxLines, ext: o.ext, seed: o.seed });
        writeSeedFile(o.out, seeds);
        console.log(`wrote ${seeds.length} seeds cut from ${from} to ${o.out}`);
      } catch (err) {
        fail(err);
      }
    });
}

export function seedsCommand(): Command {
  return new Command('seeds').description('make seed files').addCommand(cutCommand());
}
