/**
 * NDJSON from a file or stdin, through the same pipeline as Kafka. The "partition" is the file;
 * the offset is the line number, so a replay's flushes are deterministic too.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Pipeline } from '../pipeline/pipeline';
import { standardInput } from '../store/engine-stdin';

export interface FileProgress {
  lines: number;
  /** Bytes read so far, and the input's size when it is known (a regular file). */
  bytes: number;
  totalBytes?: number;
}

/** How often (in lines) progress is reported; the progress display decides what to show. */
const PROGRESS_EVERY = 1000;

export async function readNdjson(
  path: string,
  pipeline: Pipeline,
  opts: { group: string; flushEvery: number; onProgress?: (p: FileProgress) => void },
): Promise<number> {
  const input = path === '-' ? standardInput() : createReadStream(path);
  const st = path === '-' ? undefined : statSync(path);
  const totalBytes = st?.isFile() ? st.size : undefined;
  let bytes = 0;
  input.on('data', (chunk: Buffer | string) => (bytes += chunk.length));
  const rl = createInterface({ input, crlfDelay: Infinity });
  const ps = pipeline.state(`file:${path === '-' ? 'stdin' : path}`, 0);
  let line = 0;
  const now = Date.now();
  // One flush in flight while reading goes on: the partition's state is taken when the flush
  // starts, so the next lines fill a fresh one; waiting for the previous flush bounds memory.
  let flushing: Promise<unknown> = Promise.resolve();
  for await (const text of rl) {
    line++;
    if (line % PROGRESS_EVERY === 0) opts.onProgress?.({ lines: line, bytes, totalBytes });
    if (text.trim() === '') continue;
    pipeline.handle(ps, line, text, undefined, now);
    if (line % opts.flushEvery === 0) {
      await flushing;
      flushing = pipeline.flushPartition(ps, opts.group);
      flushing.catch(() => undefined); // handled: the next await rethrows it
    }
  }
  await flushing;
  await pipeline.flushPartition(ps, opts.group);
  opts.onProgress?.({ lines: line, bytes, totalBytes });
  return line;
}
