/**
 * The report page: one self-contained HTML file (inline CSS and SVG, no script, no network).
 * Numbers carry `data-cell` attributes and bars `data-bar`/`data-n`, so a test can read them
 * back from the rendered DOM.
 */
import type { GradeCounts } from '../../db/queries/stats';
import { usd, type Cost } from '../../db/queries/cost';
import type { Band } from '../dataset/bins';
import type { Comparison } from './compare-batches';
import type { BatchInfo, ChainExample, LlmUsage } from './data';
import { HIST_LABELS, type HistogramRow, type TurnStats, type YieldStats } from './summarize';
import { COLORS, esc, groupedBarsSvg, histogramSvg } from './svg';

/** Everything the page shows; model.ts gathers it from Postgres (declared here, so html.ts imports nothing back). */
export interface ReportModel {
  generatedAt: string;
  batch: BatchInfo;
  envs: string[];
  seeds: Record<string, number>;
  seedTotal: number;
  band: Band;
  totals: YieldStats;
  turns: TurnStats[];
  reasons: { reason: string; byTurn: number[]; total: number }[];
  histByTurn: HistogramRow[];
  histByEnv: HistogramRow[];
  comparison: Comparison | null;
  comparisonNote: string;
  chains: ChainExample[];
  llm: LlmUsage[];
  llmTotals: { calls: number; promptTokens: number; completionTokens: number };
  /** Graded student attempts; protocol violations (forged lines on the grader's channel) are fails. */
  grades: GradeCounts;
  /** Priced with the caller's price table (CAIRN_PRICES); null without one. */
  cost: Cost | null;
}

const MUTED = [0, HIST_LABELS.length - 1];
const int = (n: number) => n.toLocaleString('en-US');
const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(0)}%` : '–');
const p2 = (p: number | null) => (p === null ? '–' : p.toFixed(2));
const cell = (key: string, v: string | number, cls = 'n') => `<td class="${cls}" data-cell="${esc(key)}">${esc(v)}</td>`;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2330;margin:0;background:#f5f6f8}
main{max-width:1120px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:34px 0 10px;border-bottom:1px solid #dde1e7;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.sub{color:#5b6473;margin:0 0 16px}.note{color:#5b6473;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:14px 0}.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:10px 14px}
.card b{display:block;font-size:22px}.card span{color:#5b6473;font-size:12px}
table{border-collapse:collapse;background:#fff;border:1px solid #dde1e7;margin:6px 0 10px}
th,td{padding:5px 10px;border-bottom:1px solid #eceff3;text-align:left;vertical-align:top}th{background:#eef1f5;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:16px}.panel{display:inline-block;background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:8px 10px}
.panel h3{margin:2px 0 4px}
svg.chart text{font-size:10px;fill:#39404d}svg.chart text.v{text-anchor:middle}svg.chart text.l{text-anchor:middle;fill:#5b6473}
svg.chart text.lg{font-size:12px}
pre{background:#f7f8fa;border:1px solid #e3e6eb;border-radius:6px;padding:8px;margin:4px 0;font-size:12px;overflow:auto;max-height:260px;white-space:pre}
.chain{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:10px 14px;margin:12px 0}
.steps{display:flex;gap:10px;overflow-x:auto}.step{flex:1 1 0;min-width:250px;border-left:4px solid ${COLORS.blue};padding:4px 8px;background:#fbfcfd}
.step.invalid{border-color:${COLORS.red}}.step.duplicate{border-color:${COLORS.grey}}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#e8edf5;margin-right:4px}
.big{font-size:20px;font-weight:600}`;

function header(m: ReportModel): string {
  const s = m.batch.settings;
  const envs = Array.isArray(s.envs) ? (s.envs as unknown[]).join(', ') : String(s.env ?? m.envs.join(', '));
  const facts = [
    ['mode', m.batch.mode],
    ['environment', envs],
    ['turns', s.turns],
    ['M (student attempts)', s.attempts],
    ['teacher', m.batch.models.teacher],
    ['student', m.batch.models.student],
  ].filter(([, v]) => v !== undefined && v !== '');
  const t = m.totals;
  const card = (key: string, v: string, label: string) =>
    `<div class="card"><b data-cell="${key}">${esc(v)}</b><span>${esc(label)}</span></div>`;
  return `<h1>Cairn batch <span data-cell="batch-id">${esc(m.batch.id)}</span></h1>
<p class="sub">${facts.map(([k, v]) => `${esc(k)}: <b>${esc(v)}</b>`).join(' · ')} · created ${esc(m.batch.createdAt.toISOString().slice(0, 16).replace('T', ' '))} UTC</p>
<div class="cards">
${card('total-seeds', int(m.seedTotal), `seeds (${m.seeds.done ?? 0} done, ${m.seeds.failed ?? 0} failed)`)}
${card('total-problems', int(t.problems), 'problems written (teacher turns)')}
${card('total-valid', int(t.valid), `valid (${pct(t.valid, t.problems)})`)}
${card('total-usable', int(t.usable), `usable (${m.band.min} ≤ p ≤ ${m.band.max})`)}
${card('total-attempts', int(m.grades.attempts), `student attempts graded (${m.grades.pass} pass, ${m.grades.fail} fail)`)}
${card('total-protocol-violations', int(m.grades.protocolViolations), "attempts failed for a protocol violation (forged lines on the grader's channel)")}
${card('total-llm-calls', int(m.llmTotals.calls), 'LLM calls')}
${card('total-tokens', int(m.llmTotals.promptTokens + m.llmTotals.completionTokens), 'tokens (in + out)')}
</div>`;
}

function turnsSection(m: ReportModel): string {
  const rows = m.turns
    .map(
      (t) =>
        `<tr><td>turn ${t.turn}</td>${cell(`turn-${t.turn}-problems`, t.problems)}${cell(`turn-${t.turn}-valid`, t.valid)}` +
        `${cell(`turn-${t.turn}-invalid`, t.invalid)}${cell(`turn-${t.turn}-duplicate`, t.duplicate)}${cell(`turn-${t.turn}-pending`, t.pending)}` +
        `${cell(`turn-${t.turn}-graded`, t.graded)}${cell(`turn-${t.turn}-usable`, t.usable)}${cell(`turn-${t.turn}-yield`, pct(t.valid, t.problems))}` +
        `${cell(`turn-${t.turn}-usable-yield`, pct(t.usable, t.problems))}${cell(`turn-${t.turn}-mean-p`, p2(t.meanPassRate))}</tr>`,
    )
    .join('\n');
  const chart = groupedBarsSvg(
    'turns',
    m.turns.map((t) => ({ label: `turn ${t.turn}`, values: [t.problems, t.valid, t.usable] })),
    [
      { name: 'problems', color: COLORS.grey },
      { name: 'valid', color: COLORS.blue },
      { name: 'usable', color: COLORS.green },
    ],
  );
  const reasons =
    m.reasons.length === 0
      ? '<p class="note">No invalid problems.</p>'
      : `<table><tr><th>why invalid</th>${m.turns.map((t) => `<th class="n">turn ${t.turn}</th>`).join('')}<th class="n">total</th></tr>
${m.reasons.map((r, i) => `<tr><td data-reason="${i}">${esc(r.reason)}</td>${r.byTurn.map((n, j) => cell(`reason-${i}-turn-${m.turns[j]?.turn}`, n)).join('')}${cell(`reason-${i}-total`, r.total)}</tr>`).join('\n')}</table>`;
  return `<h2>Problems and yield per turn</h2>
<table><tr><th>turn</th><th class="n">problems</th><th class="n">valid</th><th class="n">invalid</th><th class="n">duplicate</th><th class="n">pending</th><th class="n">graded</th><th class="n">usable</th><th class="n">valid yield</th><th class="n">usable yield</th><th class="n">mean p</th></tr>
${rows}</table>
<p class="note">Valid yield = valid / problems; usable yield = usable / problems (usable: what <code>cairn export</code> keeps by default). Pending: written, not yet validated.</p>
<div class="panel">${chart}</div>
<h3>Why the invalid ones failed</h3>${reasons}`;
}

function histSection(m: ReportModel): string {
  const panel = (title: string, id: string, counts: readonly number[]) =>
    `<div class="panel"><h3>${esc(title)}</h3>${histogramSvg(id, HIST_LABELS, counts, MUTED)}</div>`;
  const byTurn = m.histByTurn.map((h) => panel(`turn ${h.key}`, `turn-${h.key}`, h.counts)).join('');
  const byEnv = m.histByEnv.map((h) => panel(h.key, `env-${h.key}`, h.counts)).join('');
  return `<h2>Pass-rate histograms</h2>
<p class="note">Graded, non-duplicate problems by student pass rate. Grey: p = 0 and p = 1, which the dataset filter drops.</p>
<h3>Per turn</h3><div class="grid">${byTurn || '<p class="note">Nothing graded yet.</p>'}</div>
<h3>Per environment</h3><div class="grid">${byEnv || '<p class="note">Nothing graded yet.</p>'}</div>`;
}

function compareSection(c: Comparison | null, note: string): string {
  if (!c) return `<h2>Multi-turn vs single-turn</h2><p class="note" data-cell="cmp-note">${esc(note)}</p>`;
  const sides = [c.self, c.other];
  const row = (s: typeof c.self) =>
    `<tr><td>${esc(s.id)}</td><td>${esc(s.mode)}</td>${cell(`cmp-${s.mode}-problems`, s.yield.problems)}${cell(`cmp-${s.mode}-valid`, s.yield.valid)}` +
    `${cell(`cmp-${s.mode}-usable`, s.yield.usable)}${cell(`cmp-${s.mode}-usable-per-seed`, (s.yield.usable / Math.max(1, s.yield.seeds)).toFixed(2))}` +
    `${cell(`cmp-${s.mode}-usable-yield`, pct(s.yield.usable, s.yield.problems))}</tr>`;
  const turns = [...new Set(sides.flatMap((s) => s.turns.map((t) => t.turn)))].sort((a, b) => a - b);
  const chart = groupedBarsSvg(
    'compare',
    turns.map((t) => ({ label: `turn ${t}`, values: sides.map((s) => s.turns.find((x) => x.turn === t)?.usable ?? 0) })),
    sides.map((s, i) => ({ name: `${s.mode} usable`, color: i === 0 ? COLORS.green : COLORS.orange })),
  );
  const ratio =
    c.multiOverSingle === null
      ? ''
      : `<p>Multi-turn gave <span class="big" data-cell="cmp-ratio">${c.multiOverSingle.toFixed(2)}×</span> the usable problems of single-turn on the same seeds (the paper reports over 4×).</p>`;
  return `<h2>Multi-turn vs single-turn</h2>
<p class="note" data-cell="cmp-note">${esc(note)} Counted over the <b data-cell="cmp-shared-seeds">${c.sharedSeeds}</b> seed snippets both batches ran.</p>
${ratio}
<table><tr><th>batch</th><th>mode</th><th class="n">problems (teacher calls)</th><th class="n">valid</th><th class="n">usable</th><th class="n">usable per seed</th><th class="n">usable yield</th></tr>
${sides.map(row).join('\n')}</table>
<div class="panel">${chart}</div>`;
}

function excerpt(code: string | null, lines = 14): string {
  if (!code) return '';
  const all = code.replace(/\s+$/, '').split('\n');
  return all.slice(0, lines).join('\n') + (all.length > lines ? `\n… (${all.length - lines} more lines)` : '');
}

function chainsSection(m: ReportModel): string {
  if (m.chains.length === 0) return '<h2>Stepping-stone chains</h2><p class="note">No problems yet.</p>';
  const chains = m.chains
    .map(
      (c) => `<div class="chain" data-chain="${esc(c.chainId)}">
<h3>seed ${esc(c.seedId)}${c.source ? ` <span class="note">${esc(c.source)}</span>` : ''}</h3>
<details><summary class="note">seed snippet</summary><pre>${esc(excerpt(c.snippet, 30))}</pre></details>
<div class="steps">${c.steps
        .map(
          (s) => `<div class="step ${esc(s.status)}" data-step="${s.id}">
<div><span class="tag">turn ${s.turn}</span>${s.level ? `<span class="tag">${esc(s.level)}</span>` : ''}<span class="tag">${esc(s.instruction)}</span></div>
<div>${s.status === 'graded' ? `pass rate <b data-cell="step-${s.id}-p">${p2(s.passRate)}</b> (${s.passed}/${s.attempts})` : `<b>${esc(s.status)}</b>${s.invalidReason ? `: ${esc(s.invalidReason.slice(0, 160))}` : ''}`}</div>
${s.message ? `<div class="note">${esc(s.message.slice(0, 240))}</div>` : ''}
${s.code ? `<pre>${esc(excerpt(s.code))}</pre>` : ''}</div>`,
        )
        .join('')}</div></div>`,
    )
    .join('\n');
  return `<h2>Stepping-stone chains</h2><p class="note">${m.chains.length} seed${m.chains.length > 1 ? 's' : ''} with the most graded problems: each problem's instruction, pass rate, hint and code.</p>${chains}`;
}

function llmSection(m: ReportModel): string {
  const rank = (r: string) => ['teacher', 'student'].indexOf(r) >>> 0; // teacher, student, then any other role
  const roles = [...new Set(m.llm.map((u) => u.role))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const totals = m.llm.filter((u) => u.turn === null).sort((a, b) => roles.indexOf(a.role) - roles.indexOf(b.role));
  const perTurn = m.llm.filter((u) => u.turn !== null);
  const tRows = totals
    .map(
      (u) =>
        `<tr><td>${esc(u.role)}</td>${cell(`llm-${u.role}-calls`, int(u.calls))}${cell(`llm-${u.role}-prompt`, int(u.promptTokens))}${cell(`llm-${u.role}-completion`, int(u.completionTokens))}${cell(`llm-${u.role}-truncated`, int(u.truncated ?? 0))}</tr>`,
    )
    .join('');
  const turns = [...new Set(perTurn.map((u) => u.turn as number))].sort((a, b) => a - b);
  const turnRows = turns
    .map(
      (t) =>
        `<tr><td>turn ${t}</td>${roles
          .map((r) => {
            const u = perTurn.find((x) => x.turn === t && x.role === r);
            return (
              cell(`llm-turn-${t}-${r}-calls`, int(u?.calls ?? 0)) +
              cell(`llm-turn-${t}-${r}-tokens`, int((u?.promptTokens ?? 0) + (u?.completionTokens ?? 0)))
            );
          })
          .join('')}</tr>`,
    )
    .join('');
  const all = m.llmTotals.promptTokens + m.llmTotals.completionTokens;
  return `<h2>LLM calls and tokens</h2>
<table><tr><th>role</th><th class="n">calls</th><th class="n">prompt tokens</th><th class="n">completion tokens</th><th class="n">cut at max tokens</th></tr>${tRows || '<tr><td colspan="5">none</td></tr>'}</table>
<p class="note">Tokens per usable problem: <b data-cell="tokens-per-usable">${m.totals.usable ? int(Math.round(all / m.totals.usable)) : '–'}</b>. Cached calls are counted once. Student answers cut at max tokens (finish_reason <code>length</code>) are left out of pass rates unless the batch counts them as failures (<code>--truncated fail</code>).</p>
${
  m.cost
    ? `<p class="note">Cost: <b data-cell="cost-total">${usd(m.cost.usd)}</b>; per usable problem <b data-cell="cost-per-usable">${m.totals.usable ? usd(m.cost.usd / m.totals.usable) : '–'}</b>; ` +
      `per turn ${m.cost.byTurn.map((t) => `turn ${t.turn} <span data-cell="cost-turn-${t.turn}">${usd(t.usd)}</span>`).join(', ')}` +
      `${m.cost.unpriced.length ? ` (no price for ${esc(m.cost.unpriced.join(', '))}: not counted)` : ''}.</p>`
    : '<p class="note">Cost: set CAIRN_PRICES (USD per million tokens per model) to see it.</p>'
}
${turns.length ? `<table><tr><th>turn</th>${roles.map((r) => `<th class="n">${esc(r)} calls</th><th class="n">${esc(r)} tokens</th>`).join('')}</tr>${turnRows}</table>` : ''}`;
}

export function renderReport(m: ReportModel): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cairn report: ${esc(m.batch.id)}</title><style>${CSS}</style></head>
<body><main>
${header(m)}
${turnsSection(m)}
${histSection(m)}
${compareSection(m.comparison, m.comparisonNote)}
${chainsSection(m)}
${llmSection(m)}
<p class="note">Made by <code>cairn batch report</code> from Postgres at ${esc(m.generatedAt)}. Band ${m.band.min}–${m.band.max}.</p>
</main></body></html>
`;
}
