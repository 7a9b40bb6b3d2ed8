/**
 * Consumer lag per partition (high watermark − next offset to read), refreshed from the broker
 * every 15 s. The same admin call tells whether Kafka answers when no batch arrives.
 */
import { Admin } from 'kafkajs';
import { Metrics } from '../../ops/metrics';
import { Dependencies } from '../../ops/dependencies';
import { partitionKey } from './ownership';

export class LagTracker {
  private readonly next = new Map<string, number>();

  constructor(
    private readonly topics: string[],
    private readonly metrics: Metrics,
    private readonly dependencies: Dependencies,
  ) {}

  /** After a batch: where this partition stands. */
  observe(topic: string, partition: number, nextOffset: number, highWatermark: number): void {
    this.next.set(partitionKey(topic, partition), nextOffset);
    this.metrics.consumerLag.set({ topic, partition: String(partition) }, Math.max(0, highWatermark - nextOffset));
  }

  forget(topic: string, partition: number): void {
    this.next.delete(partitionKey(topic, partition));
    this.metrics.consumerLag.remove({ topic, partition: String(partition) });
  }

  async refresh(admin: Admin): Promise<void> {
    try {
      for (const topic of this.topics) {
        for (const o of await admin.fetchTopicOffsets(topic)) {
          const next = this.next.get(partitionKey(topic, o.partition));
          if (next !== undefined)
            this.metrics.consumerLag.set({ topic, partition: String(o.partition) }, Math.max(0, Number(o.high) - next));
        }
      }
      this.dependencies.ok('kafka');
    } catch (err) {
      this.dependencies.failed('kafka', err);
    }
  }
}
