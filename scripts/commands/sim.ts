import { Command } from 'commander';
import { loadConfig } from '../../workers/config';
import { createSimServer } from '../sim';
import { fail } from './common';

export function simCommand(): Command {
  return new Command('sim')
    .description('run the LLM simulator: an OpenAI-compatible server with a scripted teacher and a student of set skill')
    .option('--port <n>', 'port (default CAIRN_SIM_PORT or 8787)')
    .action(async (o: { port?: string }) => {
      try {
        const cfg = loadConfig();
        const sim = await createSimServer({ port: o.port ? Number(o.port) : cfg.simPort });
        console.log(`[sim] listening on ${sim.url}`);
        await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
        await sim.close();
      } catch (err) {
        fail(err);
      }
    });
}
