/**
 * Writes docs/metrics.md, the reference of every metric `/metrics` exports, from the metric
 * definitions themselves (src/ops/metrics.ts and the collision metrics): name, type, labels and
 * help text. `npm run docs` runs it; test/unit/docs-reference.test.ts fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metrics } from '../src/ops/metrics';
import { CollisionMetrics } from '../src/analyzers/collision-metrics';
import { CollisionDetector } from '../src/collisions';
import { parseConfig } from '../src/config/load';

export const METRICS_PATH = join(__dirname, '..', 'docs', 'metrics.md');

interface MetricDoc {
  name: string;
  type: string;
  labels: string[];
  help: string;
}

/** Every featurewatch metric (not the Node.js process metrics), sorted by name. */
export function metricDocs(): MetricDoc[] {
  const cfg = parseConfig({});
  const m = new Metrics();
  new CollisionMetrics(m, new CollisionDetector(cfg.collisions), cfg.limits.maxMetricSeries);
  return m.registry
    .getMetricsAsArray()
    .map((x) => {
      const metric = x as unknown as { name: string; help: string; labelNames?: string[]; constructor: { name: string } };
      return { name: metric.name, type: metric.constructor.name.toLowerCase(), labels: [...(metric.labelNames ?? [])], help: metric.help };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

export function metricsReference(): string {
  const lines = [
    '# Metrics reference',
    '',
    '<!-- Generated from the metric definitions by scripts/metrics-reference.ts (`npm run docs`).',
    '     A unit test fails when this file is out of date. -->',
    '',
    '`GET /metrics` on `http.port` (default 9464), Prometheus text format. Series labelled by `model`',
    '(or `model` and `vector`) are capped at `limits.maxMetricSeries` label sets per family: the least',
    'recently seen beyond it are summed under `model="__other__"`, so a producer inventing names cannot',
    'grow the scrape. The collision counters are updated at each flush.',
    '',
    '| metric | type | labels | meaning |',
    '|---|---|---|---|',
  ];
  for (const d of metricDocs())
    lines.push(`| \`${d.name}\` | ${d.type} | ${d.labels.map((l) => `\`${l}\``).join(', ')} | ${d.help.replace(/\|/g, '\\|')} |`);
  lines.push(
    '',
    'Also exported: the Node.js process metrics of prom-client with the `featurewatch_` prefix',
    '(`featurewatch_process_*`, `featurewatch_nodejs_*`: CPU, RSS, heap, event-loop lag, GC). Active',
    'handles, requests and resources are exported per type only; their `*_total` gauges are left out',
    '(a gauge named `_total` breaks the naming rules): sum the per-type series.',
    '',
    'The exposition passes the Prometheus linter that `promtool check metrics` runs',
    '(`test/unit/metrics-lint.test.ts`).',
  );
  return lines.join('\n') + '\n';
}

if (require.main === module) writeFileSync(METRICS_PATH, metricsReference());
