import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRetryAfter } from '../../activities/llm/classify-error';
import { difficultyBin } from '../../scripts/dataset/exporter';
import { validateSeedFile } from '../../scripts/lib/load-seeds';
import { createTestDb, type TestDb } from '../helpers/db';
import { cutSeeds, parseSeedLine, SeedFileError } from '../../scripts/lib/seed-file';
import { ConfigError, loadConfig } from '../../workers/config/load-config';
import { validateBatchOptions } from '../../scripts/lib/start-batch';
import { histogramIndex, histogramLabels } from '../../db/queries/stats';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-unit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('seed files', () => {
  // Duplicate ids are found by Postgres (flat memory for any file size).
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await createTestDb('seedfile');
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('reads JSONL seeds, defaulting ids and kind', async () => {
    const f = file('ok.jsonl', '{"id":"a","snippet":"x = 1"}\n\n{"code":"y = 2","kind":"solution"}\n');
    expect(await validateSeedFile(tdb.db, f, false)).toEqual({ count: 2, bad: [] });
    expect(parseSeedLine('{"id":"a","snippet":"x = 1"}', 1, 'f:1')).toEqual({ id: 'a', snippet: 'x = 1', kind: 'snippet', source: null });
    expect(parseSeedLine('{"code":"y = 2","kind":"solution"}', 3, 'f:3')).toEqual({
      id: 'line3',
      snippet: 'y = 2',
      kind: 'solution',
      source: null,
    });
  });

  it.each([
    ['{"id":"a","snippet":"x"}\n{not json', /bad\.jsonl:2: not valid JSON/],
    ['{"id":"a"}', /bad\.jsonl:1: needs a non-empty "snippet"/],
    ['{"id":"a b","snippet":"x"}', /bad\.jsonl:1: id "a b" may use only/],
    ['{"id":"a","snippet":"x"}\n{"id":"a","snippet":"y"}', /bad\.jsonl:2: id "a" appears twice/],
    ['', /holds no seeds/],
  ])('names the file, line and reason of a bad seed file (%#)', async (text, re) => {
    await expect(validateSeedFile(tdb.db, file('bad.jsonl', text), false)).rejects.toThrow(re);
  });

  it('says how to make a seed file when it is missing', async () => {
    await expect(validateSeedFile(tdb.db, path.join(tmp, 'nope.jsonl'), false)).rejects.toThrow(/cairn seeds cut/);
  });

  it('cuts reproducible spans of the asked length', () => {
    const src = path.join(tmp, 'src');
    fs.mkdirSync(src);
    const body = Array.from({ length: 200 }, (_, i) => `def f${i}(x):\n    return x + ${i}`).join('\n');
    fs.writeFileSync(path.join(src, 'a.py'), body);
    const a = cutSeeds({ from: src, count: 5, minLines: 25, maxLines: 50, seed: 1, ext: '.py' });
    const b = cutSeeds({ from: src, count: 5, minLines: 25, maxLines: 50, seed: 1, ext: '.py' });
    expect(a).toEqual(b);
    for (const s of a) {
      const n = s.snippet.split('\n').length;
      expect(n).toBeGreaterThanOrEqual(25);
      expect(n).toBeLessThanOrEqual(50);
      expect(s.source).toMatch(/^a\.py:\d+-\d+$/);
    }
    expect(() => cutSeeds({ from: path.join(tmp, 'none'), count: 1, minLines: 25, maxLines: 50, seed: 1, ext: '.py' })).toThrow(
      SeedFileError,
    );
  });
});

describe('small rules', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });

  it("bins pass rates with the paper's broad bins", () => {
    expect([0.05, 0.1, 0.3, 0.7, 0.9, 0.99].map(difficultyBin)).toEqual(['very-hard', 'hard', 'medium', 'easy-medium', 'easy', 'trivial']);
  });

  it('rejects bad batch options with the flag and the fix', () => {
    expect(() => validateBatchOptions({ seedFile: 's.jsonl', turns: 0, attempts: 8, env: 'induction' })).toThrow(/--turns 0/);
    expect(() => validateBatchOptions({ seedFile: 's.jsonl', turns: 1, attempts: 0, env: 'induction' })).toThrow(/--attempts 0/);
    expect(() => validateBatchOptions({ seedFile: 's.jsonl', turns: 1, attempts: 1, env: 'poetry' })).toThrow(
      /--env poetry: unknown environment/,
    );
  });

  it('config names the bad variable', () => {
    expect(() => loadConfig({ CAIRN_SANDBOX_SLOTS: 'two' })).toThrow(ConfigError);
    expect(() => loadConfig({ CAIRN_TEACHER_EXTRA_BODY: '[1]' })).toThrow(/CAIRN_TEACHER_EXTRA_BODY must be a JSON object/);
    const cfg = loadConfig({ CAIRN_TEACHER_API_KEY: 'sk-secret' });
    expect(cfg.teacher.apiKey).toBe('sk-secret');
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(cfg.pgPoolMax).toBe(20);
    expect(loadConfig({ CAIRN_PG_POOL_MAX: '48' }).pgPoolMax).toBe(48);
    expect(cfg.metricsPort).toBeNull();
    expect(loadConfig({ CAIRN_METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(() => loadConfig({ CAIRN_METRICS_PORT: 'http' })).toThrow(/CAIRN_METRICS_PORT=http is not a TCP port/);
    for (const bad of ['0', '1', 'lots', '2.5', '5000'])
      expect(() => loadConfig({ CAIRN_PG_POOL_MAX: bad })).toThrow(
        new RegExp(`CAIRN_PG_POOL_MAX=${bad} must be a whole number from 2 to 1000`),
      );
  });
});

describe('pass-rate histogram', () => {
  it('keeps p = 0 and p = 1 in their own buckets', () => {
    const labels = histogramLabels();
    expect(labels[histogramIndex(0)]).toBe('0 (none)');
    expect(labels[histogramIndex(0.05)]).toBe('0.0-0.1');
    expect(labels[histogramIndex(0.95)]).toBe('0.9-1.0');
    expect(labels[histogramIndex(1)]).toBe('1 (all)');
  });
});
