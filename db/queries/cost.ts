/**
 * Money: LLM tokens of a batch, by turn, role and model (from its llm_calls rows), priced with a
 * table per model (USD per million input and output tokens). Pure pricing plus one query; the table
 * comes from the worker's config (CAIRN_PRICES / CAIRN_PRICES_FILE).
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../client';

export interface ModelPrice {
  /** USD per million prompt (input) tokens. */
  input: number;
  /** USD per million completion (output) tokens. */
  output: number;
  /** Fraction off for requests sent through a provider's batch API (e.g. 0.5 = half price). */
  batchDiscount?: number;
}
export type PriceTable = Readonly<Record<string, ModelPrice>>;

export interface TokenUse {
  turn: number;
  role: string;
  model: string;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** Sent through a provider batch API (the collector records the batch id in the stored request): the discount applies. */
  batch: boolean;
}

/**
 * Token use of a batch's problems: each teacher call its problems point at, and each student sample
 * its attempts point at (a cached call counts once per batch: it was paid once).
 */
export async function batchTokenUse(db: Database, batchId: string): Promise<TokenUse[]> {
  const res = await db.execute(sql`
    with used as (
      select distinct p.turn, p.teacher_call_id as id from problems p where p.batch_id = ${batchId} and p.teacher_call_id is not null
      union
      select distinct p.turn, a.llm_call_id as id from attempts a join problems p on p.id = a.problem_id where p.batch_id = ${batchId}
    )
    select u.turn::int as turn, c.role, c.model, (c.request->'params' ? 'batch') as via_batch, count(*)::int as calls,
           coalesce(sum(c.prompt_tokens), 0)::float8 as prompt_tokens, coalesce(sum(c.completion_tokens), 0)::float8 as completion_tokens
    from used u join llm_calls c on c.id = u.id
    group by u.turn, c.role, c.model, via_batch
    order by u.turn, c.role, c.model, via_batch`);
  return (res.rows as Record<string, unknown>[]).map((r) => ({
    turn: Number(r.turn),
    role: String(r.role),
    model: String(r.model),
    calls: Number(r.calls),
    promptTokens: Number(r.prompt_tokens),
    completionTokens: Number(r.completion_tokens),
    batch: r.via_batch === true,
  }));
}

export interface Cost {
  usd: number;
  byTurn: { turn: number; usd: number }[];
  byRole: Record<string, number>;
  /** Models with tokens but no price (their tokens are not in `usd`). */
  unpriced: string[];
}

/** USD of one row of use at list price (`batch`: sent through a batch API, the discount applies). */
export function priceOf(u: Pick<TokenUse, 'promptTokens' | 'completionTokens'>, p: ModelPrice, batch = false): number {
  const list = (u.promptTokens * p.input + u.completionTokens * p.output) / 1e6;
  return batch ? list * (1 - (p.batchDiscount ?? 0)) : list;
}

export function costOf(use: readonly TokenUse[], prices: PriceTable): Cost {
  const byTurn = new Map<number, number>();
  const byRole: Record<string, number> = {};
  const unpriced = new Set<string>();
  let usd = 0;
  for (const u of use) {
    const p = prices[u.model];
    if (!p) {
      if (u.promptTokens + u.completionTokens > 0) unpriced.add(u.model);
      continue;
    }
    const c = priceOf(u, p, u.batch === true);
    usd += c;
    byTurn.set(u.turn, (byTurn.get(u.turn) ?? 0) + c);
    byRole[u.role] = (byRole[u.role] ?? 0) + c;
  }
  return {
    usd,
    byTurn: [...byTurn.entries()].sort((a, b) => a[0] - b[0]).map(([turn, x]) => ({ turn, usd: x })),
    byRole,
    unpriced: [...unpriced].sort(),
  };
}

/** `$1.23`, or more digits for small sums. */
export function usd(x: number): string {
  return x >= 100 ? `$${x.toFixed(0)}` : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toPrecision(3)}`;
}
