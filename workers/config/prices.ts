/**
 * The price table per model (USD per million input and output tokens, and the batch-API discount),
 * from CAIRN_PRICES (inline JSON) or CAIRN_PRICES_FILE (a JSON file), e.g.
 * {"gpt-4.1-mini": {"input": 0.4, "output": 1.6, "batchDiscount": 0.5}}. Models without a price cost
 * nothing that can be shown: `batch status` names them.
 */
import fs from 'node:fs';

export interface ModelPrice {
  input: number;
  output: number;
  batchDiscount?: number;
}

export class PriceTableError extends Error {
  override name = 'PriceTableError';
}

const FORMAT = 'write {"<model>": {"input": USD per 1M input tokens, "output": USD per 1M output tokens, "batchDiscount": 0.5}}';

export function parsePriceTable(text: string, where: string): Record<string, ModelPrice> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PriceTableError(`${where} is not JSON (${(err as Error).message}); ${FORMAT}.`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new PriceTableError(`${where} must be a JSON object; ${FORMAT}.`);
  const out: Record<string, ModelPrice> = {};
  for (const [model, v] of Object.entries(raw as Record<string, unknown>)) {
    const p = v as Record<string, unknown> | null;
    const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
    if (!p || typeof p !== 'object' || !ok(p.input) || !ok(p.output))
      throw new PriceTableError(`${where}: the price of ${model} needs "input" and "output" as numbers >= 0; ${FORMAT}.`);
    if (p.batchDiscount !== undefined && !(ok(p.batchDiscount) && (p.batchDiscount as number) < 1))
      throw new PriceTableError(`${where}: the batchDiscount of ${model} must be a fraction in [0, 1), e.g. 0.5 for half price.`);
    out[model] = {
      input: p.input as number,
      output: p.output as number,
      ...(p.batchDiscount === undefined ? {} : { batchDiscount: p.batchDiscount as number }),
    };
  }
  return out;
}

/** CAIRN_PRICES (JSON) wins over CAIRN_PRICES_FILE; neither set: an empty table. */
export function pricesFromEnv(env: NodeJS.ProcessEnv): Record<string, ModelPrice> {
  if (env.CAIRN_PRICES) return parsePriceTable(env.CAIRN_PRICES, 'CAIRN_PRICES');
  const file = env.CAIRN_PRICES_FILE;
  if (!file) return {};
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new PriceTableError(`CAIRN_PRICES_FILE=${file} cannot be read (${(err as Error).message}); point it at a JSON price table.`);
  }
  return parsePriceTable(text, `CAIRN_PRICES_FILE=${file}`);
}
