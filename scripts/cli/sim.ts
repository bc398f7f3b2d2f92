import { Command } from 'commander';
import { loadConfig } from '../../workers/config/load-config';
import { SIM_SETTING_KEYS, createSimServer, parseSimSettings } from '../sim';
import { fail } from './options';

/** `--set key=value` pairs (repeatable) plus CAIRN_SIM_SETTINGS (JSON) into strict simulator settings. */
export function simSettingsFrom(env: NodeJS.ProcessEnv, pairs: string[]) {
  let base: Record<string, unknown> = {};
  if (env.CAIRN_SIM_SETTINGS) {
    try {
      base = JSON.parse(env.CAIRN_SIM_SETTINGS) as Record<string, unknown>;
    } catch {
      throw new Error(`CAIRN_SIM_SETTINGS must be JSON, e.g. {"rate429":0.3}; got ${env.CAIRN_SIM_SETTINGS}`);
    }
  }
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i < 1) throw new Error(`--set ${p}: expected key=value (keys: ${SIM_SETTING_KEYS.join(', ')})`);
    base[p.slice(0, i)] = p.slice(i + 1);
  }
  return parseSimSettings(base, undefined, { strict: true });
}

export function simCommand(): Command {
  return new Command('sim')
    .description('run the LLM simulator: an OpenAI-compatible server (models sim-teacher, sim-student) with a scripted teacher, a student of set skill, and faults on demand')
    .option('--port <n>', 'port (default CAIRN_SIM_PORT or 8787)')
    .option('--set <key=value>', `a setting, repeatable: ${SIM_SETTING_KEYS.join(', ')} (see scripts/sim/settings.ts); also CAIRN_SIM_SETTINGS as JSON; change them live with POST /admin/config`,
      (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (o: { port?: string; set: string[] }) => {
      try {
        const cfg = loadConfig();
        const settings = simSettingsFrom(process.env, o.set);
        const sim = await createSimServer({ ...settings, port: o.port ? Number(o.port) : cfg.simPort });
        console.log(`[sim] listening on ${sim.url} (admin: ${sim.url.replace(/\/v1$/, '')}/admin/config)`);
        await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
        await sim.close();
      } catch (err) {
        fail(err);
      }
    });
}
