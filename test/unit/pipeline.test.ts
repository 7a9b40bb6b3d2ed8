/** The pipeline never lets an exception out of `handle`: a bug becomes a named, counted rejection. */
import { Pipeline } from '../../src/pipeline/pipeline';
import { StoreWriter } from '../../src/store/writer';
import { Analyzer } from '../../src/analyzers/analyzer';
import { FeatureEvent } from '../../src/core/event';
import { Metrics } from '../../src/ops/metrics';
import { parseConfig } from '../../src/config/load';
import { quietLogger } from '../helpers/env';

test('an analyzer that throws turns that message into an internal_error rejection; the next message goes on', async () => {
  const seen: string[] = [];
  const flaky: Analyzer = {
    name: 'flaky',
    observe(ev: FeatureEvent) {
      if (ev.inputId === 'boom') throw new Error('analyzer bug');
      seen.push(ev.inputId);
    },
    drain() {},
  };
  const metrics = new Metrics();
  const cfg = parseConfig({ log: { level: 'silent' } });
  // The writer is not reached here (no flush): a unit test may fake it.
  const p = new Pipeline({ cfg, writer: {} as StoreWriter, metrics, log: quietLogger(), analyzers: () => [flaky] });
  const ps = p.state('t', 0);
  const msg = (id: string) => JSON.stringify({ model: 'm', input_id: id, features: { x: 1 } });
  expect(p.handle(ps, 0, msg('a'), undefined, Date.now())).toBeNull();
  const r = p.handle(ps, 1, msg('boom'), undefined, Date.now());
  expect(r?.reason).toBe('internal_error');
  expect(r?.detail).toBe('analyzer bug');
  expect(p.handle(ps, 2, msg('b'), undefined, Date.now())).toBeNull();
  expect(seen).toEqual(['a', 'b']);
  const rejected = (await metrics.rejected.get()).values.find((v) => v.labels.reason === 'internal_error');
  expect(rejected?.value).toBe(1);
  expect(ps.messages).toBe(3);
});
