/** The `cairn` command: one file per subcommand under scripts/commands/. */
import { Command } from 'commander';
import { batchCommand } from './batch';
import { demoCommand } from './demo';
import { devCommand } from './dev';
import { exportCommand } from './export';
import { gradeCommand } from './grade';
import { limitsCommand } from './limits';
import { seedsCommand } from './seeds';
import { setupCommand } from './setup';
import { simCommand } from './sim';
import { workerCommand } from './worker';

export function buildProgram(): Command {
  return new Command('cairn')
    .description(
      'Turn seed code snippets into a curriculum of verified coding problems (teacher/student LLMs, sandboxed Python, Temporal).',
    )
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
  buildProgram()
    .parseAsync(argv, { from: 'user' })
    .catch((err: unknown) => {
      console.error(`cairn: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    });
}
