/** The Grafana dashboard in docs/ asks only for Cairn metrics that exist. */
import fs from 'node:fs';
import path from 'node:path';
import { cairnRegistry } from '../../activities/cairn-metrics';

test('every cairn_* metric the dashboard queries is registered', async () => {
  const dash = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../docs/grafana-dashboard.json'), 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
  };
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
  const used = new Set(exprs.flatMap((e) => e.match(/\bcairn_\w+/g) ?? []));
  const known = new Set((await cairnRegistry.getMetricsAsJSON()).map((m) => m.name));
  expect(used.size).toBeGreaterThan(5);
  expect([...used].filter((n) => !known.has(n))).toEqual([]);
});
