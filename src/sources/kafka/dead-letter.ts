/**
 * Rejected messages to the dead-letter topic, with the reason in headers (`fw-reason`,
 * `fw-detail`, `fw-source`). A produce that fails — message larger than the topic allows, topic
 * missing, not authorized, broker unreachable — fails fast (short timeout, few retries) so the
 * pipeline records the rejection in ClickHouse instead (`rejected_messages`) and moves on.
 */
import { IHeaders, Kafka, Producer } from 'kafkajs';
import { MessageHeaders } from '../../core/event';
import { Rejection } from '../../core/rejection';

const SEND_TIMEOUT_MS = 5000;

export class DeadLetterProducer {
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  send = async (value: Buffer | string | null, headers: MessageHeaders | undefined, r: Rejection): Promise<void> => {
    const h: IHeaders = {};
    for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) h[k] = v as IHeaders[string];
    h['fw-reason'] = r.reason;
    h['fw-detail'] = r.detail;
    h['fw-source'] = `${r.origin.topic}/${r.origin.partition}/${r.origin.offset}`;
    const p = await this.connected();
    await p.send({ topic: this.topic, messages: [{ value, headers: h }], timeout: SEND_TIMEOUT_MS, acks: -1 });
  };

  private connected(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const p = this.kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 } });
      try {
        await p.connect();
      } catch (err) {
        this.connecting = null;
        throw err;
      }
      this.producer = p;
      return p;
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    this.connecting = null;
    await p?.disconnect().catch(() => undefined);
  }
}
