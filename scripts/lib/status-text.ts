/** What `cairn batch status` prints: the summary, the recorded settings, what the workers used, the UI link. */
import { usd, type Cost } from '../../db/queries/cost';
import type { BatchSummary } from '../../db/queries/stats';
import type { Config } from '../../workers/config/load-config';
import type { BatchSettings } from '../../workflows/contracts';
import { FILTER_BAND } from '../../workflows/method/numbers';

export function uiUrl(cfg: Readonly<Config>, batchId: string): string {
  const q = encodeURIComponent(`BatchId="${batchId}"`);
  return `${cfg.temporal.uiUrl}/namespaces/${cfg.temporal.namespace}/workflows?query=${q}`;
}

/** Human-readable status (from Postgres, which is exact; visibility is eventually consistent). */
export function formatSummary(s: BatchSummary): string {
  const lines: string[] = [];
  lines.push(
    `batch ${s.batchId}: ${s.seeds.total} seeds (done ${s.seeds.done}, running ${s.seeds.running}, pending ${s.seeds.pending}, failed ${s.seeds.failed})`,
  );
  lines.push(`problems per turn:`);
  for (const t of s.turns) {
    lines.push(
      `  turn ${t.turn}: ${t.problems} problems, ${t.valid} valid, ${t.invalid} invalid, ${t.duplicate} duplicate, ${t.inBand} with 0<p<1, mean p ${t.meanPassRate === null ? '-' : t.meanPassRate.toFixed(2)}`,
    );
  }
  // Contaminated problems are invalid with a reason naming the benchmark item (activities/grader.ts).
  const contaminated = s.invalidReasons.filter((r) => r.reason.startsWith('Contaminated:')).reduce((a, r) => a + r.n, 0);
  if (contaminated) lines.push(`contaminated (too close to a public benchmark problem; not graded): ${contaminated}`);
  // Near-duplicates are duplicates with a reason of their own (db/queries/problems.ts nearDuplicateReason).
  const near = s.nearDuplicates;
  if (near) lines.push(`near-duplicates (near-copies of an earlier problem; not graded, counted in duplicate above): ${near}`);
  if (s.invalidReasons.length) {
    lines.push('invalid problems, by reason:');
    for (const r of s.invalidReasons) lines.push(`  ${String(r.n).padStart(4)}  ${r.reason}`);
  }
  const g = s.grades;
  lines.push(
    `student attempts graded: ${g.attempts} (pass ${g.pass}, fail ${g.fail}${g.protocolViolations ? `, of which ${g.protocolViolations} for a protocol violation: forged lines on the grader's channel` : ''})`,
  );
  lines.push('pass-rate histogram (graded problems):');
  const max = Math.max(1, ...s.histogram.map((h) => h.n));
  for (const h of s.histogram) lines.push(`  ${h.label.padEnd(11)} ${String(h.n).padStart(4)} ${'#'.repeat(Math.round((h.n / max) * 40))}`);
  lines.push(
    `LLM calls paid: ${s.llm.calls} (teacher ${s.llm.teacherCalls}, student ${s.llm.studentCalls}), served from the cache: ${s.llm.cacheHits}; tokens ${s.llm.promptTokens} in / ${s.llm.completionTokens} out`,
  );
  if (s.llm.teacherTruncated || s.llm.studentTruncated) {
    lines.push(
      `answers cut at max tokens (finish_reason length): teacher ${s.llm.teacherTruncated}, student ${s.llm.studentTruncated}` +
        ' (student ones are left out of pass rates unless the batch was started with --truncated fail; raise CAIRN_<ROLE>_MAX_TOKENS)',
    );
  }
  if (s.sampling.graded)
    lines.push(
      `student samples: ${s.sampling.samples} over ${s.sampling.graded} graded problems (${(s.sampling.samples / s.sampling.graded).toFixed(1)} per problem)` +
        (s.sampling.meanWidth === null ? '' : `; mean pass-rate interval width ${s.sampling.meanWidth.toFixed(2)}`),
    );
  lines.push(`dataset-ready problems (valid, ${FILTER_BAND.min} <= p <= ${FILTER_BAND.max}): ${s.exportable}`);
  if (s.failures.length) {
    lines.push('failed seeds, by reason (`cairn batch resume` reruns them):');
    for (const f of s.failures) lines.push(`  ${String(f.n).padStart(4)}  ${f.reason}`);
  }
  return lines.join('\n');
}

/** Cost lines: per batch, per turn, per usable (dataset-ready) problem, and the budget when there is one. */
export function formatCost(c: Cost, usable: number, budgetUsd?: number): string {
  const lines = [
    `cost: ${usd(c.usd)} (teacher ${usd(c.byRole.teacher ?? 0)}, student ${usd(c.byRole.student ?? 0)}); ` +
      `per usable problem ${usable ? usd(c.usd / usable) : '-'}${budgetUsd === undefined ? '' : `; budget ${usd(budgetUsd)} (${Math.round((100 * c.usd) / budgetUsd)}% spent)`}`,
  ];
  if (c.byTurn.length) lines.push(`cost per turn: ${c.byTurn.map((t) => `turn ${t.turn} ${usd(t.usd)}`).join(', ')}`);
  if (c.unpriced.length) lines.push(`no price for ${c.unpriced.join(', ')} (not in the cost): set CAIRN_PRICES or CAIRN_PRICES_FILE`);
  return lines.join('\n');
}

/** The recorded settings and what the workers actually used, one line each. */
export function formatSettings(s: BatchSettings, used: { role: string; details: Record<string, unknown>; host: string }[]): string {
  const env = s.envWeights
    ? Object.entries(s.envWeights)
        .map(([k, w]) => `${k}=${w}`)
        .join(',')
    : s.env;
  const lines = [
    `settings: ${s.mode} mode, env ${env}, ${s.turns} turns, M=${s.attempts} (${s.sampling} sampling, ${s.confidence} confidence), dedup ${s.dedup}, near-dup ${s.nearDup}, decontam ${s.decontam}, visible pairs ${s.visiblePairs}, ` +
      `time limit max(${s.timeLimitMs} ms, ${s.timeSlack} x reference CPU)${s.mode === 'chain' ? `, chain bins ${JSON.stringify(s.chainBins)}` : ''}`,
  ];
  if (used.length === 0) lines.push('workers used: none yet');
  for (const u of used) lines.push(`workers used: ${u.role} ${JSON.stringify(u.details)} (first on ${u.host})`);
  return lines.join('\n');
}
