/**
 * NDJSON from a file or stdin, through the same pipeline as Kafka. The "partition" is the file;
 * the offset is the line number, so a replay's flushes are deterministic too.
 */
import { createReadStream, statSync } from 'node:fs';
import { Pipeline } from '../pipeline/pipeline';
import { standardInput } from '../store/engine-stdin';
import { LineSplitter } from './line-splitter';

export interface FileProgress {
  lines: number;
  /** Bytes read so far, and the input's size when it is known (a regular file). */
  bytes: number;
  totalBytes?: number;
}

/** How often (in lines) progress is reported; the progress display decides what to show. */
const PROGRESS_EVERY = 1000;
/** Bytes per read from a file: fewer reads and chunk hand-offs than the stream's default 64 KiB. */
const READ_CHUNK = 256 << 10;

export async function readNdjson(
  path: string,
  pipeline: Pipeline,
  opts: {
    group: string;
    flushEvery: number;
    onProgress?: (p: FileProgress) => void;
    /** Flushes wait for it: lines are read and analyzed while the store starts. */
    storeReady?: Promise<unknown>;
  },
): Promise<number> {
  const input = path === '-' ? standardInput() : createReadStream(path, { highWaterMark: READ_CHUNK });
  const st = path === '-' ? undefined : statSync(path);
  const totalBytes = st?.isFile() ? st.size : undefined;
  let bytes = 0;
  const splitter = new LineSplitter();
  const ps = pipeline.state(`file:${path === '-' ? 'stdin' : path}`, 0);
  let line = 0;
  const now = Date.now();
  // One flush in flight while reading goes on: the partition's state is taken when the flush
  // starts, so the next lines fill a fresh one; waiting for the previous flush bounds memory.
  let flushing: Promise<unknown> = opts.storeReady ?? Promise.resolve();
  // A store that fails to start stops the reading at the next chunk, not at the first flush.
  let storeFailed = false;
  let storeStarting = opts.storeReady !== undefined;
  opts.storeReady?.then(
    () => (storeStarting = false),
    () => (storeFailed = true),
  );
  const batches = async function* () {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      if (storeFailed) await opts.storeReady;
      // Buffered chunks arrive as microtasks; the store's replies need a turn of the event loop.
      if (storeStarting) await new Promise((r) => setImmediate(r));
      bytes += chunk.length;
      yield splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    }
    const last = splitter.end();
    if (last !== null) yield [last];
  };
  for await (const texts of batches()) {
    for (const text of texts) {
      line++;
      if (line % PROGRESS_EVERY === 0) opts.onProgress?.({ lines: line, bytes, totalBytes });
      if (text.trim() === '') continue;
      pipeline.handle(ps, line, text, undefined, now);
      if (line % opts.flushEvery === 0) {
        await flushing;
        // Every line so far fully analyzed (the collision detector's answers in) before its unit is taken: the
        // units of a replay are the same whatever the threads' timing.
        await pipeline.settle();
        flushing = pipeline.flushPartition(ps, opts.group);
        flushing.catch(() => undefined); // handled: the next await rethrows it
      }
    }
    if (pipeline.congested) await pipeline.settle();
  }
  // Released while the last flush may still be writing: its memory is gone before that flush peaks.
  await pipeline.inputEnded();
  await flushing;
  await pipeline.flushPartition(ps, opts.group);
  opts.onProgress?.({ lines: line, bytes, totalBytes });
  return line;
}
