/**
 * Checks the LLM endpoints before a batch writes anything: reachable, key accepted, model served.
 * A wrong key or model name is reported now, in one paragraph, instead of failing every seed later.
 */
import OpenAI from 'openai';
import type { Config, LlmEndpoint } from '../../workers/config/load-config';

export class EndpointError extends Error {
  override name = 'EndpointError';
}

async function check(role: 'teacher' | 'student', ep: LlmEndpoint): Promise<void> {
  const env = `CAIRN_${role.toUpperCase()}`;
  const client = new OpenAI({ baseURL: ep.baseURL, apiKey: ep.apiKey, maxRetries: 0, timeout: 10_000 });
  let models: string[];
  try {
    const page = await client.models.list();
    models = page.data.map((m) => m.id);
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 401 || status === 403) {
      throw new EndpointError(
        `The ${role} endpoint ${ep.baseURL} refused the API key (${status}). Set ${env}_API_KEY (or OPENAI_API_KEY) to a valid key; nothing was written.`,
      );
    }
    if (status === undefined) {
      throw new EndpointError(
        `The ${role} endpoint ${ep.baseURL} is unreachable (${(err as Error).message}). Start it (the simulator: \`npx cairn dev\` or \`npx cairn sim\`) or set ${env}_BASE_URL; nothing was written.`,
      );
    }
    // Some servers do not list models; the first real call will tell.
    return;
  }
  if (models.length > 0 && !models.includes(ep.model)) {
    throw new EndpointError(
      `The ${role} endpoint ${ep.baseURL} does not serve model "${ep.model}" (it serves: ${models.slice(0, 10).join(', ')}). Set ${env}_MODEL; nothing was written.`,
    );
  }
}

export async function preflight(cfg: Readonly<Config>): Promise<void> {
  await check('teacher', cfg.teacher);
  await check('student', cfg.student);
}
