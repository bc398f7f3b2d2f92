/** One seed load in its own process, so its peak RSS (VmHWM) is the loader's alone. Used by bench:scale. */
import fs from 'node:fs';
import { createDb } from '../../db/client';
import { upsertBatch } from '../../db/queries/batches';
import { loadSeeds } from '../lib/load-seeds';
import { batchSettingsFrom } from '../../workflows/contracts';

async function main(): Promise<void> {
  const [file, url] = process.argv.slice(2);
  if (!file || !url) throw new Error('usage: load-child.ts FILE DATABASE_URL');
  const { db, pool } = createDb(url, { max: 2 });
  try {
    await upsertBatch(db, 'scale-load', batchSettingsFrom({ seedFile: file }));
    const r = await loadSeeds(db, 'scale-load', file, { skipBad: false });
    const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    console.log(JSON.stringify({ inserted: r.inserted, ms: r.ms, peakRssBytes: Number(hwm) * 1024 }));
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
