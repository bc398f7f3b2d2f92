/** The README's "Using Cairn from your own script" example, kept here so `npm run typecheck` compiles it (tests/unit/readme.test.ts checks the README shows this file). */
import { cutSeeds, exportBatch, formatSummary, batchSummary, openCairn, startBatch, stdlibDir, waitForBatch, writeSeedFile } from '../lib';

async function main() {
  const cairn = await openCairn(); // Postgres (migrated) + Temporal, from DATABASE_URL, TEMPORAL_ADDRESS, ...
  try {
    writeSeedFile('seeds.jsonl', cutSeeds({ from: stdlibDir(), count: 100, minLines: 25, maxLines: 50, ext: '.py', seed: 1 }));
    await startBatch(cairn.db, cairn.client, cairn.cfg, {
      seedsFile: 'seeds.jsonl',
      batchId: 'my-run',
      turns: 4,
      attempts: 32,
      env: 'induction=2,deduction',
      mode: 'multi',
    });
    console.log(await waitForBatch(cairn.client, 'my-run')); // { started, finished, failed, cancelled }
    console.log(formatSummary(await batchSummary(cairn.db, 'my-run')));
    await exportBatch(cairn.db, { batchId: 'my-run', out: 'out/my-run.jsonl' }); // default band 0.01-0.97
  } finally {
    await cairn.close();
  }
}
main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
