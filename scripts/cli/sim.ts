import { Command } from 'commander';
import { loadConfig } from '../../workers/config/load-config';
import { SIM_SETTING_KEYS, createSimServer, simSettingsFrom } from '../sim';
import { fail } from './options';

export function simCommand(): Command {
  return new Command('sim')
    .description(
      'run the LLM simulator: an OpenAI-compatible server (models sim-teacher, sim-student) with a scripted teacher, a student of set skill, and faults on demand',
    )
    .option('--port <n>', 'port (default CAIRN_SIM_PORT or 8787)')
    .option(
      '--set <key=value>',
      `a setting, repeatable: ${SIM_SETTING_KEYS.join(', ')} (see scripts/sim/settings.ts); also CAIRN_SIM_SETTINGS as JSON; change them live with POST /admin/config`,
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action(async (o: { port?: string; set: string[] }) => {
      try {
        const cfg = loadConfig();
        const settings = simSettingsFrom(process.env, o.set);
        const sim = await createSimServer({ ...settings, port: o.port ? Number(o.port) : cfg.simPort });
        console.log(`[sim] listening on ${sim.url} (admin: ${sim.url.replace(/\/v1$/, '')}/admin/config)`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await sim.close();
      } catch (err) {
        fail(err);
      }
    });
}
