/**
 * NDJSON from a file or stdin, through the same pipeline as Kafka. The "partition" is the file;
 * the offset is the line number, so a replay's flushes are deterministic too.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Pipeline } from '../pipeline/pipeline';

export interface FileProgress {
  lines: number;
  bytes: number;
}

export async function readNdjson(
  path: string,
  pipeline: Pipeline,
  opts: { group: string; flushEvery: number; onProgress?: (p: FileProgress) => void },
): Promise<number> {
  const input = path === '-' ? process.stdin : createReadStream(path);
  const rl = createInterface({ input, crlfDelay: Infinity });
  const ps = pipeline.state(`file:${path === '-' ? 'stdin' : path}`, 0);
  let line = 0;
  let bytes = 0;
  const now = Date.now();
  for await (const text of rl) {
    line++;
    bytes += text.length + 1;
    if (text.trim() === '') continue;
    pipeline.handle(ps, line, text, undefined, now);
    if (line % opts.flushEvery === 0) {
      await pipeline.flushPartition(ps, opts.group);
      opts.onProgress?.({ lines: line, bytes });
    }
  }
  await pipeline.flushPartition(ps, opts.group);
  opts.onProgress?.({ lines: line, bytes });
  return line;
}
