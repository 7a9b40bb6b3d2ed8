/** The references in docs/ are current: metrics generated from their definitions, every table documented. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricsReference, METRICS_PATH } from '../../scripts/metrics-reference';

test('docs/metrics.md is what scripts/metrics-reference.ts generates from the metric definitions', () => {
  // On failure: npm run docs
  expect(readFileSync(METRICS_PATH, 'utf8')).toBe(metricsReference());
});

test('docs/tables.md documents every table and view the migrations create', () => {
  const ddl = readFileSync(join(__dirname, '..', 'golden', 'schema', 'single-node.sql'), 'utf8');
  const created = [...ddl.matchAll(/^CREATE (?:TABLE|VIEW|OR REPLACE VIEW)(?: IF NOT EXISTS)? featurewatch\.(\w+)/gm)]
    .map((m) => m[1].replace(/_parts$/, ''))
    .filter((t, i, all) => all.indexOf(t) === i);
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'tables.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `(\w+)`/gm)].map((m) => m[1]));
  expect(created.length).toBeGreaterThan(20);
  expect(created.filter((t) => !documented.has(t))).toEqual([]);
  expect([...documented].filter((t) => !created.includes(t))).toEqual([]);
});
