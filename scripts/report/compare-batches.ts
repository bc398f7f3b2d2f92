/**
 * Multi-turn vs single-turn yield (method.md: the paper reports over 4x more usable problems from
 * multi-turn after filtering). Two batches are comparable when they ran the same seed snippets in
 * different modes; only the seeds they share are counted, so a half-finished or larger batch does
 * not skew the ratio.
 *
 * `--compare ID` names the other batch. Without it, the report picks one when it is obvious: a
 * batch whose mode is the other of multi/single and that shares at least half of this batch's
 * seed snippets and has problems (the most shared wins; then the newest). `--no-compare` turns it off.
 */
import type { Database } from '../../db/client';
import type { Band } from '../dataset/bins';
import { batchInfo, batchesSharingSeeds, modeOf, problemFacts, seedSnippetHashes, type BatchInfo } from './data';
import { turnStats, yieldOf, type TurnStats, type YieldStats } from './summarize';

export interface ComparisonSide {
  id: string;
  mode: string;
  yield: YieldStats;
  turns: TurnStats[];
}

export interface Comparison {
  auto: boolean;
  self: ComparisonSide;
  other: ComparisonSide;
  /** Distinct seed snippets both batches ran. */
  sharedSeeds: number;
  /** Usable problems of the multi-turn batch over those of the single-turn batch (null unless one of each, and single > 0). */
  multiOverSingle: number | null;
}

const PAIR = ['multi', 'single'];

/** Chooses the batch to compare with, or explains why there is none. */
export async function pickComparison(db: Database, self: BatchInfo, selfSeeds: number): Promise<{ id: string | null; note: string }> {
  if (!PAIR.includes(self.mode))
    return { id: null, note: `This batch ran in ${self.mode} mode; compare it with another batch explicitly: --compare ID.` };
  const want = self.mode === 'multi' ? 'single' : 'multi';
  const cands = (await batchesSharingSeeds(db, self.id))
    .filter((b) => modeOf(b.settings) === want && b.shared * 2 >= selfSeeds && b.problems > 0)
    .sort((a, b) => b.shared - a.shared || b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id));
  const best = cands[0];
  if (!best)
    return {
      id: null,
      note: `No ${want}-turn batch ran these seeds. Run the same seed file with --mode ${want}; the report then compares the two (or name one with --compare ID).`,
    };
  const others =
    cands.length > 1
      ? ` (${cands.length - 1} other candidate${cands.length > 2 ? 's' : ''}: ${cands
          .slice(1, 4)
          .map((c) => c.id)
          .join(', ')}; choose with --compare ID)`
      : '';
  return { id: best.id, note: `Compared with ${best.id} automatically: ${want} mode, ${best.shared} shared seed snippets${others}.` };
}

export async function compareBatches(db: Database, self: BatchInfo, otherId: string, band: Band, auto: boolean): Promise<Comparison> {
  const other = await batchInfo(db, otherId);
  if (!other) throw new Error(`--compare ${otherId}: no such batch in Postgres.`);
  if (other.id === self.id) throw new Error('--compare: name a different batch than --batch.');
  const [hs, ho] = await Promise.all([seedSnippetHashes(db, self.id), seedSnippetHashes(db, other.id)]);
  const inOther = new Set(ho.values());
  const inSelf = new Set(hs.values());
  const sharedHashes = new Set([...inSelf].filter((h) => inOther.has(h)));
  if (sharedHashes.size === 0)
    throw new Error(`--compare ${otherId}: the two batches share no seed snippet; a yield comparison needs the same seeds.`);
  const side = async (b: BatchInfo, hashes: Map<string, string>): Promise<ComparisonSide> => {
    const rows = (await problemFacts(db, b.id)).filter((r) => sharedHashes.has(hashes.get(r.seedId) ?? ''));
    return { id: b.id, mode: b.mode, yield: yieldOf(rows, band, sharedHashes.size), turns: turnStats(rows, band) };
  };
  const [s, o] = await Promise.all([side(self, hs), side(other, ho)]);
  const multi = [s, o].find((x) => x.mode === 'multi');
  const single = [s, o].find((x) => x.mode === 'single');
  const multiOverSingle = multi && single && single.yield.usable > 0 ? multi.yield.usable / single.yield.usable : null;
  return { auto, self: s, other: o, sharedSeeds: sharedHashes.size, multiOverSingle };
}
