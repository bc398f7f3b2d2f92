import { Command } from 'commander';
import { loadConfig } from '../../workers/config/load-config';
import { setup } from '../stack/install';
import { startStack, untilStopped } from '../stack/dev-stack';
import { fail, llmChoice, localLlmOption, type LlmChoice } from './options';

export function devCommand(): Command {
  return new Command('dev')
    .description(
      'run the embedded stack in the foreground: Temporal dev server + UI, Postgres, the LLM simulator, one worker per queue, restarted if it dies (Ctrl-C stops all)',
    )
    .option('--no-workers', 'do not start workers (run `cairn worker` yourself)')
    .option('--no-sim', 'do not start the LLM simulator even if an endpoint points at it')
    .option(
      '--llm <which>',
      'sim (the configured endpoints; the simulator by default) | local (a real model on CPU: llama.cpp server, installed into .tools/)',
      llmChoice,
      'sim',
    )
    .option('--model <file.gguf>', 'with --llm local: serve this GGUF model instead of the bundled SmolLM2-135M-Instruct')
    .action(async (o: { workers: boolean; sim: boolean; llm: LlmChoice; model?: string }) => {
      try {
        const cfg = loadConfig();
        await setup(cfg, { quiet: true });
        const say = (m: string) => console.log(`[dev] ${m}`);
        const stack = await startStack(cfg, {
          say,
          workers: o.workers,
          sim: o.sim ? undefined : false,
          restartWorkers: true,
          localLlm: localLlmOption(o),
        });
        say(`ready. Temporal UI: ${cfg.temporal.uiUrl}. Start a batch in another terminal: npx cairn batch start --seeds FILE`);
        const fatal = await untilStopped(stack);
        say('stopping ...');
        await stack.stop();
        if (fatal)
          throw new Error(`${fatal.message}. Stopped the stack: fix that (the log lines are above) and run \`npx cairn dev\` again.`, {
            cause: fatal,
          });
        say('stopped; run `npx cairn dev` again to resume where it was');
      } catch (err) {
        fail(err);
      }
    });
}
