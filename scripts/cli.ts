/** The `cairn` command: one file per subcommand under scripts/commands/. */
import { Command } from 'commander';
import { batchCommand } from './commands/batch';
import { demoCommand } from './commands/demo';
import { devCommand } from './commands/dev';
import { exportCommand } from './commands/export';
import { gradeCommand } from './commands/grade';
import { limitsCommand } from './commands/limits';
import { seedsCommand } from './commands/seeds';
import { setupCommand } from './commands/setup';
import { simCommand } from './commands/sim';
import { workerCommand } from './commands/worker';

export function buildProgram(): Command {
  return new Command('cairn')
    .description('Turn seed code snippets into a curriculum of verified coding problems (teacher/student LLMs, sandboxed Python, Temporal).')
    .showHelpAfterError()
    .addCommand(setupCommand())
    .addCommand(devCommand())
    .addCommand(demoCommand())
    .addCommand(workerCommand())
    .addCommand(simCommand())
    .addCommand(seedsCommand())
    .addCommand(batchCommand())
    .addCommand(exportCommand())
    .addCommand(gradeCommand())
    .addCommand(limitsCommand());
}

export function main(argv: string[]): void {
  buildProgram().parseAsync(argv, { from: 'user' }).catch((err: unknown) => {
    console.error(`cairn: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
