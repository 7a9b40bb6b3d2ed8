/** SASL authentication (PLAIN, SCRAM) and TLS against the real broker's SASL_PLAINTEXT and SSL listeners. */
import { startDaemon, Daemon } from '../../src/daemon';
import { syntheticMessages } from '../../src/demo/synthetic';
import { testConfig, quietLogger, waitFor, uniqueName } from '../helpers/env';
import { startReadyDaemon } from '../helpers/daemon';
import { createTopic, produce } from '../helpers/kafka';
import { storedEvents } from '../helpers/store';

const sasl = process.env.FW_TEST_KAFKA_SASL_BROKERS;
// A broker started by scripts/kafka-broker.sh always has the listener; an external one may not.
const maybe = sasl ? describe : describe.skip;

maybe('Kafka SASL', () => {
  const running: Daemon[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
  });

  test.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)('consumes with SASL %s', async (mechanism) => {
    const topic = uniqueName(`fw-sasl-${mechanism}`);
    await createTopic(topic, 2);
    const ms = [...syntheticMessages({ count: 300, seed: 3 })].map((value) => ({ value }));
    await produce(topic, ms);
    const cfg = testConfig({
      kafka: {
        brokers: [sasl!],
        topics: [topic],
        groupId: uniqueName('g'),
        fromBeginning: true,
        sasl: { mechanism, username: 'featurewatch', password: 'fw-secret' },
      },
      store: { flushIntervalSeconds: 0.5 },
    });
    const d = await startReadyDaemon(cfg, quietLogger());
    running.push(d);
    expect(
      await waitFor(
        () => storedEvents(d.app.store),
        (n) => n >= ms.length,
      ),
    ).toBe(ms.length);
  });

  test('a wrong password is reported as Kafka being down (state, metric, status), never by exiting', async () => {
    const cfg = testConfig({
      kafka: {
        brokers: [sasl!],
        topics: [uniqueName('t')],
        groupId: uniqueName('g'),
        sasl: { mechanism: 'scram-sha-512', username: 'featurewatch', password: 'wrong' },
      },
    });
    const d = await startDaemon(cfg, quietLogger());
    try {
      const st = await waitFor(
        async () => d.status() as { dependencies: Record<string, { up: boolean; lastError: string | null }> },
        (s) => /SASL|[Aa]uthentication/.test(s.dependencies.kafka?.lastError ?? ''),
        30_000,
      );
      expect(st.dependencies.kafka.up).toBe(false);
      const up = (await d.app.metrics.dependencyUp.get()).values.find((v) => v.labels.dependency === 'kafka');
      expect(up?.value).toBe(0);
    } finally {
      await d.stop();
    }
  });
});

const tls = process.env.FW_TEST_KAFKA_TLS_BROKERS;
const tlsCa = process.env.FW_TEST_KAFKA_TLS_CA;
(tls && tlsCa ? describe : describe.skip)('Kafka TLS', () => {
  test('consumes over TLS, verifying the broker against the configured CA', async () => {
    const topic = uniqueName('fw-tls');
    await createTopic(topic, 2);
    const ms = [...syntheticMessages({ count: 200, seed: 8 })].map((value) => ({ value }));
    await produce(topic, ms);
    const cfg = testConfig({
      kafka: { brokers: [tls!], topics: [topic], groupId: uniqueName('g'), fromBeginning: true, ssl: { enabled: true, caFile: tlsCa } },
      store: { flushIntervalSeconds: 0.5 },
    });
    const d = await startReadyDaemon(cfg, quietLogger());
    try {
      expect(
        await waitFor(
          () => storedEvents(d.app.store),
          (n) => n >= ms.length,
        ),
      ).toBe(ms.length);
    } finally {
      await d.stop();
    }
  });

  test('a broker certificate not signed by the configured CA is refused (reported, never by exiting)', async () => {
    // Real CAs that did not sign the broker's self-signed certificate: the system bundle.
    const other = '/etc/ssl/certs/ca-certificates.crt';
    const cfg = testConfig({
      kafka: { brokers: [tls!], topics: [uniqueName('t')], groupId: uniqueName('g'), ssl: { enabled: true, caFile: other } },
    });
    const d = await startDaemon(cfg, quietLogger());
    try {
      const st = await waitFor(
        async () => d.status() as { dependencies: Record<string, { up: boolean; lastError: string | null }> },
        (s) => /certificate/i.test(s.dependencies.kafka?.lastError ?? ''),
        30_000,
      );
      expect(st.dependencies.kafka.up).toBe(false);
    } finally {
      await d.stop();
    }
  });
});
