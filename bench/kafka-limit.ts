/**
 * The limit of end-to-end consumption on this machine: a bare kafkajs consumer (eachBatch, nothing
 * done per message) reads every message of a topic from the beginning, optionally with JSON.parse
 * of each value. Prints seconds (from connect to the last message), msgs/s and this process's CPU
 * seconds. Used by bench/pipeline.ts b-server to measure the limit in the same run as the daemon.
 * Usage: npx tsx bench/kafka-limit.ts BROKERS TOPIC N [bare|parse]
 */
import { Kafka, logLevel } from 'kafkajs';

const [brokers, topic, count, mode] = process.argv.slice(2);
const N = Number(count);
const parse = mode === 'parse';

async function main(): Promise<void> {
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'bench-limit', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-limit-${Date.now()}-${process.pid}`, maxWaitTimeInMs: 1000 });
  const cpu = process.cpuUsage();
  const t0 = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0,
    keys = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (parse && m.value) keys += Object.keys(JSON.parse(m.value.toString('utf8')) as object).length;
          seen++;
        }
        if (seen >= N) resolve();
      },
    });
  });
  await done;
  const secs = (Date.now() - t0) / 1000;
  const c = process.cpuUsage(cpu);
  await consumer.disconnect();
  console.log(
    JSON.stringify({
      limit: parse ? 'kafkajs eachBatch + JSON.parse' : 'kafkajs eachBatch (bare)',
      messages: seen,
      seconds: +secs.toFixed(2),
      msgs_per_s: Math.round(seen / secs),
      cpu_s: +((c.user + c.system) / 1e6).toFixed(2),
      keys_parsed: keys,
    }),
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
