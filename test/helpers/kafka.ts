/** Real-broker helpers: topics, producing synthetic messages, reading committed offsets. */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { brokers } from './env';

export function kafka(): Kafka {
  return new Kafka({ brokers: brokers(), clientId: 'fw-test', logLevel: logLevel.NOTHING });
}

export async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
}

export async function produce(
  topic: string,
  messages: { key?: string; value: string | Buffer | null; headers?: Record<string, string> }[],
): Promise<void> {
  const p = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await p.connect();
  for (let i = 0; i < messages.length; i += 1000) {
    await p.send({ topic, messages: messages.slice(i, i + 1000) });
  }
  await p.disconnect();
}

/** Committed offset per partition for the group, and the topic's end offsets. */
export async function offsets(topic: string, groupId: string): Promise<{ committed: number[]; end: number[] }> {
  const admin = kafka().admin();
  await admin.connect();
  const c = await admin.fetchOffsets({ groupId, topics: [topic] });
  const e = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const committed = c[0].partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  const end = e.sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
  return { committed, end };
}

export async function consumeAll(
  topic: string,
  expected: number,
  timeoutMs = 30_000,
): Promise<{ value: Buffer | null; headers: Record<string, string> }[]> {
  const c = kafka().consumer({ groupId: `reader-${Date.now()}-${Math.random()}` });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const got: { value: Buffer | null; headers: Record<string, string> }[] = [];
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`only ${got.length}/${expected} messages on ${topic}`)), timeoutMs);
    void c.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        got.push({ value: message.value, headers });
        if (got.length >= expected) {
          clearTimeout(t);
          resolve();
        }
      },
    });
  });
  await c.disconnect();
  return got;
}
