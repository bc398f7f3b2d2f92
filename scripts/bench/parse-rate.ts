/**
 * `npm run bench:parse [-- --seeds 6 --max-tokens 768 --seed 1 --model FILE.gguf --save DIR]`: the
 * teacher parse rate of the local model (llama.cpp's server, as `--llm local` runs it) on turn-1
 * induction requests for seeds cut from the Python standard library, side by side in one run:
 * plain (fenced blocks) vs structured (CAIRN_TEACHER_STRUCTURED=json_schema: the problem under a
 * JSON schema). Prints both rates and the reasons; `--save DIR` writes every transcript as a JSON
 * fixture (tests/fixtures/llm/ holds the ones the parser tests read).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { parseTeacher, teacherMessages } from '../../activities/environments/induction';
import { responseFormat, structuredMessages } from '../../activities/environments/structured';
import type { ChatMessage } from '../../activities/environments/environment';
import { loadConfig } from '../../workers/config/load-config';
import { cutSeeds, stdlibDir } from '../lib/seed-file';
import { checkModelFile, ensureLocalLlm } from '../stack/local-llm';
import { arg } from './bench-stack';

interface Transcript {
  model: string;
  mode: 'plain' | 'structured';
  seed: string;
  finishReason: string | null;
  completionTokens: number;
  response: string;
  parsed: { ok: boolean; reason?: string };
}

async function startServer(
  python: string,
  model: string | undefined,
  slots: number,
): Promise<{ url: string; name: string; stop: () => void }> {
  const args = [path.join(__dirname, '..', 'stack', 'llama_serve.py'), '--slots', String(slots), '--ctx', '4096', '--threads', '1'];
  if (model) args.push('--model', checkModelFile(model));
  const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', () => undefined);
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^cairn-llm-ready (\S+) (\S+)/m.exec(out);
      if (m) resolve({ url: `${m[1]}/v1`, name: m[2] ?? 'local', stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`llama_serve.py exited (code ${code}) before it was ready`)));
  });
}

async function ask(
  client: OpenAI,
  model: string,
  messages: ChatMessage[],
  extra: Record<string, unknown>,
): Promise<{ text: string; finish: string | null; tokens: number }> {
  const stream = await client.chat.completions.create({
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    ...extra,
  } as OpenAI.ChatCompletionCreateParamsStreaming);
  let text = '';
  let finish: string | null = null;
  let tokens = 0;
  for await (const c of stream) {
    text += c.choices[0]?.delta?.content ?? '';
    finish = c.choices[0]?.finish_reason ?? finish;
    tokens = c.usage?.completion_tokens ?? tokens;
  }
  return { text, finish, tokens };
}

function strArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const seeds = arg('seeds', 6);
  const maxTokens = arg('max-tokens', 768);
  const cutSeed = arg('seed', 1);
  const save = strArg('save');
  const modelFile = strArg('model');
  const cfg = loadConfig();
  const python = ensureLocalLlm(cfg, (m) => console.log(m));
  const server = await startServer(python, modelFile, 2);
  const client = new OpenAI({ baseURL: server.url, apiKey: 'local-no-key', maxRetries: 0, timeout: 30 * 60_000 });
  const cut = cutSeeds({ from: stdlibDir(), count: seeds, minLines: 25, maxLines: 50, ext: '.py', seed: cutSeed });
  const jobs = cut.flatMap((s) => (['plain', 'structured'] as const).map((mode) => ({ s, mode })));
  const results: Transcript[] = [];
  const t0 = Date.now();
  try {
    const worker = async () => {
      for (let j = jobs.shift(); j; j = jobs.shift()) {
        const plain = teacherMessages(j.s.snippet, 'initial', null);
        const structured = j.mode === 'structured';
        const r = await ask(client, server.name, structured ? structuredMessages('induction', plain) : plain, {
          max_tokens: maxTokens,
          seed: 1,
          ...(structured ? { response_format: responseFormat('induction') } : {}),
        });
        const p = parseTeacher(r.text);
        results.push({
          model: server.name,
          mode: j.mode,
          seed: j.s.id,
          finishReason: r.finish,
          completionTokens: r.tokens,
          response: r.text,
          parsed: p.ok ? { ok: true } : { ok: false, reason: p.reason },
        });
        console.log(`${j.mode.padEnd(10)} ${j.s.id}: ${p.ok ? 'parsed' : `not parsed (${p.reason})`} [${r.finish}, ${r.tokens} tokens]`);
      }
    };
    await Promise.all([worker(), worker()]);
  } finally {
    server.stop();
  }
  console.log(`\n${server.name}, ${seeds} seeds (--seed ${cutSeed}), max_tokens ${maxTokens}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  for (const mode of ['plain', 'structured'] as const) {
    const rs = results.filter((r) => r.mode === mode);
    const ok = rs.filter((r) => r.parsed.ok).length;
    console.log(`teacher parse rate, ${mode}: ${ok}/${rs.length} (${rs.length ? ((100 * ok) / rs.length).toFixed(0) : '-'}%)`);
  }
  if (save) {
    fs.mkdirSync(save, { recursive: true });
    results.forEach((r, i) => fs.writeFileSync(path.join(save, `teacher-${r.mode}-${i}.json`), JSON.stringify(r, null, 2) + os.EOL));
    console.log(`transcripts: ${save}`);
  }
}

main().catch((err: unknown) => {
  console.error(`cairn: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
