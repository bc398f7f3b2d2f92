/** Inline SVG bar charts for the report: no script, no external resource, readable printed. */

export function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export interface Series {
  name: string;
  color: string;
}

export const COLORS = { blue: '#3b6fb6', green: '#2f9e60', orange: '#d9822b', grey: '#a0a4ab', red: '#c0392b', purple: '#7d5ba6' };

/**
 * A pass-rate histogram: one bar per bucket, the value above it, the bucket below. Buckets in
 * `muted` (p = 0 and p = 1: the filter drops them) are grey. Each bar carries data-bar/data-n
 * for tests and a <title> for a tooltip.
 */
export function histogramSvg(id: string, labels: readonly string[], counts: readonly number[], muted: readonly number[] = []): string {
  const bw = 34;
  const gap = 6;
  const top = 16;
  const h = 110;
  const w = labels.length * (bw + gap) + gap;
  const max = Math.max(1, ...counts);
  const bars = labels
    .map((label, i) => {
      const n = counts[i] ?? 0;
      const bh = Math.round((n / max) * h);
      const x = gap + i * (bw + gap);
      const y = top + h - bh;
      const fill = muted.includes(i) ? COLORS.grey : COLORS.blue;
      return (
        `<g><rect x="${x}" y="${y}" width="${bw}" height="${Math.max(bh, n ? 1 : 0)}" fill="${fill}" data-bar="${esc(`${id}:${label}`)}" data-n="${n}"><title>${esc(label)}: ${n}</title></rect>` +
        `<text x="${x + bw / 2}" y="${y - 3}" class="v">${n || ''}</text>` +
        `<text x="${x + bw / 2}" y="${top + h + 12}" class="l">${esc(label.replace(' (none)', '').replace(' (all)', ''))}</text></g>`
      );
    })
    .join('');
  return (
    `<svg class="chart" width="${w}" height="${top + h + 20}" viewBox="0 0 ${w} ${top + h + 20}" role="img" aria-label="pass-rate histogram ${esc(id)}">` +
    `<line x1="0" y1="${top + h}" x2="${w}" y2="${top + h}" stroke="#ccc"/>${bars}</svg>`
  );
}

/** Grouped bars: one group per label, one bar per series; a legend above. */
export function groupedBarsSvg(
  id: string,
  groups: readonly { label: string; values: readonly number[] }[],
  series: readonly Series[],
): string {
  const bw = 26;
  const inner = 3;
  const gap = 22;
  const top = 34;
  const h = 120;
  const gw = series.length * (bw + inner) - inner;
  const w = Math.max(groups.length * (gw + gap) + gap, series.length * 120 + 10);
  const max = Math.max(1, ...groups.flatMap((g) => g.values));
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${6 + i * 120}" y="6" width="12" height="12" fill="${s.color}"/><text x="${22 + i * 120}" y="16" class="lg">${esc(s.name)}</text>`,
    )
    .join('');
  const bars = groups
    .map((g, gi) => {
      const x0 = gap + gi * (gw + gap);
      const rects = series
        .map((s, si) => {
          const n = g.values[si] ?? 0;
          const bh = Math.round((n / max) * h);
          const x = x0 + si * (bw + inner);
          const y = top + h - bh;
          return (
            `<rect x="${x}" y="${y}" width="${bw}" height="${Math.max(bh, n ? 1 : 0)}" fill="${s.color}" data-bar="${esc(`${id}:${g.label}:${s.name}`)}" data-n="${n}"><title>${esc(g.label)}, ${esc(s.name)}: ${n}</title></rect>` +
            `<text x="${x + bw / 2}" y="${y - 3}" class="v">${n}</text>`
          );
        })
        .join('');
      return `<g>${rects}<text x="${x0 + gw / 2}" y="${top + h + 14}" class="l">${esc(g.label)}</text></g>`;
    })
    .join('');
  return (
    `<svg class="chart" width="${w}" height="${top + h + 22}" viewBox="0 0 ${w} ${top + h + 22}" role="img" aria-label="${esc(id)}">` +
    `${legend}<line x1="0" y1="${top + h}" x2="${w}" y2="${top + h}" stroke="#ccc"/>${bars}</svg>`
  );
}
