import { Counter } from 'prom-client';
import { Metrics } from '../../src/ops/metrics';
import { DeferredChild, beforeRead } from '../../src/ops/deferred-counts';
import { CappedCounter, OTHER_LABEL } from '../../src/ops/capped-labels';

const sum = async (c: Counter<string>) => (await c.get()).values.reduce((s, v) => s + v.value, 0);

describe('deferred counts: per-message counters handed to prom-client when read', () => {
  test('every read (get, scrape) sees the exact count, however reads and increments interleave', async () => {
    const m = new Metrics();
    const kafka = new DeferredChild(m.messagesIn, { source: 'kafka' });
    const file = new DeferredChild(m.messagesIn, { source: 'file' });
    expect(await sum(m.messagesIn)).toBe(0);
    for (let i = 0; i < 1000; i++) kafka.inc();
    file.inc();
    expect((await m.messagesIn.get()).values.map((v) => [v.labels.source, v.value]).sort()).toEqual([
      ['file', 1],
      ['kafka', 1000],
    ]);
    kafka.inc();
    expect(await m.registry.metrics()).toContain('featurewatch_messages_in_total{source="kafka"} 1001');
    expect(await sum(m.messagesIn)).toBe(1002); // a second read adds nothing twice
  });

  test('a collect hook the metric already had still runs', async () => {
    let ran = 0;
    const c = new Counter({ name: 'x_total', help: 'x', registers: [], collect: () => void ran++ });
    beforeRead(c, () => undefined);
    await c.get();
    expect(ran).toBe(1);
  });

  test('a capped series folded into __other__ hands over what it had not yet been given', async () => {
    const m = new Metrics();
    const counter = m.eventsAccepted as Counter<'model'>;
    const c = new CappedCounter(counter, 2, (model) => ({ model }), { model: OTHER_LABEL });
    c.inc('a', 5);
    expect(await sum(counter)).toBe(5); // 'a' handed over
    c.inc('a', 2); // pending when 'a' is folded
    c.inc('b');
    c.inc('c'); // folds 'a' (least recent): other gets all 7
    const values = (await counter.get()).values;
    expect(values.find((v) => v.labels.model === OTHER_LABEL)?.value).toBe(7);
    expect(values.find((v) => v.labels.model === 'a')).toBeUndefined();
    expect(await sum(counter)).toBe(9);
  });
});
