import { Writable } from 'node:stream';
import { createKafka } from '../../src/sources/kafka-client';
import { createLogger } from '../../src/ops/logger';
import { parseConfig } from '../../src/config/load';

function capture() {
  const lines: { level: number; msg: string; kafka?: string }[] = [];
  const log = createLogger('debug', new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c))), cb()) }) as never);
  return { lines, log };
}

describe('kafkajs log lines', () => {
  test('start-up conditions kafkajs retries go to debug, explained once at info; other errors stay errors', () => {
    const { lines, log } = capture();
    const k = createKafka(parseConfig({ kafka: { brokers: ['127.0.0.1:1'] } }).kafka, log).logger();
    for (let i = 0; i < 3; i++) {
      k.error('Response GroupCoordinator(key: 10, version: 2)', { error: 'The group coordinator is not available', correlationId: i });
      k.error('Response Metadata(key: 3, version: 6)', { error: 'This server does not host this topic-partition' });
    }
    k.warn('KafkaJS v2.0.0 switched default partitioner. To retain the same partitioning behavior …');
    // Connection failures are the dependency state's business (featurewatch_dependency_up, /status).
    for (let i = 0; i < 2; i++) k.error('Connection error: connect ECONNREFUSED 127.0.0.1:1', { broker: '127.0.0.1:1' });
    k.error('Request failed: unexpected response size', { broker: '127.0.0.1:1' });
    const at = (level: number) => lines.filter((l) => l.level === level);
    expect(at(30).map((l) => l.msg)).toEqual([
      expect.stringMatching(/^kafka group coordinator not available yet/),
      expect.stringMatching(/^kafka partition leader not available yet/),
      expect.stringMatching(/^kafka broker connection failures are reported as the kafka dependency state/),
    ]);
    expect(at(20)).toHaveLength(9);
    expect(at(40)).toHaveLength(0);
    expect(at(50).map((l) => l.msg)).toEqual(['Request failed: unexpected response size']);
  });
});
