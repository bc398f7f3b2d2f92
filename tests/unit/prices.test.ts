import { costOf, priceOf, usd } from '../../db/queries/cost';
import { loadConfig } from '../../workers/config/load-config';
import { parsePriceTable, pricesFromEnv } from '../../workers/config/prices';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

test('the price table: inline JSON or a file, checked with the variable named', () => {
  expect(pricesFromEnv({})).toEqual({});
  expect(pricesFromEnv({ CAIRN_PRICES: '{"m": {"input": 0.4, "output": 1.6, "batchDiscount": 0.5}}' })).toEqual({
    m: { input: 0.4, output: 1.6, batchDiscount: 0.5 },
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-prices-')), 'p.json');
  fs.writeFileSync(file, '{"x": {"input": 1, "output": 2}}');
  expect(loadConfig({ CAIRN_PRICES_FILE: file }).prices).toEqual({ x: { input: 1, output: 2 } });
  expect(() => pricesFromEnv({ CAIRN_PRICES: 'nope' })).toThrow(/CAIRN_PRICES is not JSON/);
  expect(() => parsePriceTable('{"m": {"input": -1, "output": 1}}', 'CAIRN_PRICES')).toThrow(/the price of m needs "input" and "output"/);
  expect(() => parsePriceTable('{"m": {"input": 1, "output": 1, "batchDiscount": 1}}', 'CAIRN_PRICES')).toThrow(/batchDiscount of m/);
  expect(() => pricesFromEnv({ CAIRN_PRICES_FILE: '/no/such/file.json' })).toThrow(
    /CAIRN_PRICES_FILE=\/no\/such\/file.json cannot be read/,
  );
});

test('cost per batch, turn and role; unpriced models named, not counted', () => {
  const prices = { t: { input: 2, output: 8, batchDiscount: 0.5 }, s: { input: 1, output: 4 } };
  const c = costOf(
    [
      { turn: 1, role: 'teacher', model: 't', calls: 1, promptTokens: 1_000_000, completionTokens: 500_000, batch: false },
      { turn: 1, role: 'student', model: 's', calls: 8, promptTokens: 2_000_000, completionTokens: 1_000_000, batch: false },
      { turn: 2, role: 'student', model: 'other', calls: 8, promptTokens: 10, completionTokens: 10, batch: false },
      // Through the batch API: the teacher model's 50% discount applies.
      { turn: 2, role: 'teacher', model: 't', calls: 1, promptTokens: 1_000_000, completionTokens: 0, batch: true },
    ],
    prices,
  );
  expect(c.usd).toBeCloseTo(2 + 4 + 2 + 4 + 1, 9);
  expect(c.byTurn).toEqual([
    { turn: 1, usd: 12 },
    { turn: 2, usd: 1 },
  ]);
  expect(c.byRole).toEqual({ teacher: 7, student: 6 });
  expect(c.unpriced).toEqual(['other']);
  expect(priceOf({ promptTokens: 1e6, completionTokens: 0 }, prices.t, true)).toBeCloseTo(1, 9);
  expect([usd(123.4), usd(1.234), usd(0.000123)]).toEqual(['$123', '$1.23', '$0.000123']);
});
