import { Command } from 'commander';
import { loadConfig } from '../../workers/config/load-config';
import { setup } from '../stack/install';
import { startStack } from '../stack/dev-stack';
import { fail } from './options';

export function devCommand(): Command {
  return new Command('dev')
    .description('run the embedded stack in the foreground: Temporal dev server + UI, Postgres, the LLM simulator, one worker per queue (Ctrl-C stops all)')
    .option('--no-workers', 'do not start workers (run `cairn worker` yourself)')
    .option('--no-sim', 'do not start the LLM simulator even if an endpoint points at it')
    .action(async (o: { workers: boolean; sim: boolean }) => {
      try {
        const cfg = loadConfig();
        await setup(cfg, { quiet: true });
        const say = (m: string) => console.log(`[dev] ${m}`);
        const stack = await startStack(cfg, { say, workers: o.workers, sim: o.sim ? undefined : false });
        say(`ready. Temporal UI: ${cfg.temporal.uiUrl}. Start a batch in another terminal: npx cairn batch start --seeds FILE`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        say('stopping ...');
        await stack.stop();
        say('stopped; run `npx cairn dev` again to resume where it was');
      } catch (err) {
        fail(err);
      }
    });
}
