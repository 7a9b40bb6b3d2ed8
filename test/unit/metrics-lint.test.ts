/**
 * /metrics passes the Prometheus linter (`promtool check metrics`): every family the daemon exports
 * (process defaults, pipeline, cardinality overflow, collision counters and index health) is
 * populated through the real pipeline and scraped over HTTP, then linted by client_golang's promlint
 * (scripts/promlint, built with the machine's Go). Skipped, saying so, only when Go is missing.
 */
import { Server } from 'node:http';
import { configSchema } from '../../src/config/schema';
import { Metrics } from '../../src/ops/metrics';
import { startHttp } from '../../src/ops/http';
import { Pipeline } from '../../src/pipeline/pipeline';
import { StoreWriter } from '../../src/store/writer';
import { CollisionDetector } from '../../src/collisions';
import { CollisionMetrics } from '../../src/analyzers/collision-metrics';
import { CardinalityCaps } from '../../src/analyzers/cardinality';
import { defaultAnalyzers } from '../../src/app';
import { ReferenceRegistry } from '../../src/references/registry';
import { quietLogger } from '../helpers/env';
import { promlint, promlintBinary } from '../helpers/promlint';

const binary = promlintBinary();
const maybe = binary ? describe : describe.skip;
if (!binary) process.stderr.write('metrics lint skipped: Go is not installed (scripts/promlint needs it)\n');

maybe('/metrics and the Prometheus linter', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  test('a scrape with every family populated has no promlint problem', async () => {
    const cfg = configSchema.parse({ limits: { maxModels: 2, maxMetricSeries: 2 }, collisions: { near: { windowSize: 2048 } } });
    const metrics = new Metrics({ defaultMetrics: true });
    const detector = new CollisionDetector(cfg.collisions);
    const caps = new CardinalityCaps(cfg.limits, metrics);
    const refs = new ReferenceRegistry(cfg.drift, null, quietLogger());
    const pipeline = new Pipeline({
      cfg,
      writer: {} as StoreWriter,
      metrics,
      log: quietLogger(),
      analyzers: defaultAnalyzers(cfg, refs, caps, detector, new CollisionMetrics(metrics, detector, cfg.limits.maxMetricSeries)),
    });
    const ps = pipeline.state('t', 0);
    const v = [0.5, 1, 2, 3];
    for (let i = 0; i < 20; i++) {
      const msg = {
        model: `m${i % 4}`,
        input_id: `in${i % 15}`,
        ts: Date.now(),
        features: { x: i },
        vectors: { e: i % 5 ? [i, 1, 2, 3] : v },
      };
      pipeline.handle(ps, i, JSON.stringify(msg), undefined, Date.now());
    }
    pipeline.handle(ps, 99, 'not json', undefined, Date.now());
    ps.drainRows({ instance: 'i', windowSeconds: 300 }); // feeds the collision counters, as a flush does
    // Alert notifications by kind and outcome, as the notifier counts them.
    for (const status of ['sent', 'failed', 'deferred']) metrics.alerts.inc({ kind: 'model_drift', status });
    const h = await startHttp('127.0.0.1', 0, metrics, { ready: async () => true });
    server = h.server;
    const text = await (await fetch(`http://127.0.0.1:${h.port}/metrics`)).text();
    for (const family of [
      'featurewatch_events_total',
      'featurewatch_overflow_total',
      'featurewatch_rejected_total',
      'featurewatch_collision_inputs_total',
      'featurewatch_collided_inputs_total',
      'featurewatch_exact_index_evictions_total',
      'featurewatch_collision_keys',
      'featurewatch_near_index_vectors',
      'featurewatch_process_resident_memory_bytes',
      'featurewatch_alerts_total',
    ])
      expect(text).toContain(`# TYPE ${family} `);
    expect(text).toMatch(/^# TYPE featurewatch_collision_inputs_total counter$/m);
    expect(promlint(binary!, text)).toEqual([]);
  });

  test('the linter is live: a gauge named *_total is reported', () => {
    expect(promlint(binary!, '# HELP x_total x\n# TYPE x_total gauge\nx_total 1\n')).toEqual([
      'x_total: non-counter metrics should not have "_total" suffix',
    ]);
  });
});
