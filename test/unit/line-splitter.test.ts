import fc from 'fast-check';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { LineSplitter } from '../../src/sources/line-splitter';

/** What node:readline (the splitter replay used before) makes of the same chunks. */
async function readlineLines(chunks: Buffer[]): Promise<string[]> {
  const rl = createInterface({ input: Readable.from(chunks), crlfDelay: Infinity });
  const out: string[] = [];
  for await (const l of rl) out.push(l);
  return out;
}

function splitterLines(chunks: Buffer[]): string[] {
  const s = new LineSplitter();
  const out: string[] = [];
  for (const c of chunks) out.push(...s.push(c));
  const last = s.end();
  if (last !== null) out.push(last);
  return out;
}

/** Cuts bytes at the given positions (which may fall inside a multi-byte character or a CRLF). */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((a) => a % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out.filter((c) => c.length > 0);
}

describe('LineSplitter', () => {
  test('splits as readline does at \\n, \\r\\n, lone \\r, across chunks and at the end', async () => {
    const cases: string[][] = [
      ['a\r', '\nb'],
      ['a\r\r\n'],
      ['a\r'],
      ['\n'],
      ['a\n\n'],
      ['\r\n\r\n'],
      ['x\r', 'y'],
      ['a', '\r', '\n', 'b\r'],
      ['{"a":1}\n{"b":', '2}\n{"c":3}'],
      ['no break at the end'],
    ];
    for (const c of cases) {
      const chunks = c.map((s) => Buffer.from(s));
      expect(splitterLines(chunks)).toEqual(await readlineLines(chunks));
    }
  });

  test('a multi-byte character cut by a chunk boundary is decoded whole', () => {
    const bytes = Buffer.from('é😀\nß\n');
    for (let i = 1; i < bytes.length; i++) expect(splitterLines([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(['é😀', 'ß']);
  });

  test('the same lines as readline for any text and any chunking', async () => {
    const text = fc.array(fc.oneof(fc.constantFrom('\n', '\r', '\r\n', 'é', '😀', '{"x":1}', ' '), fc.string({ maxLength: 5 })), {
      maxLength: 30,
    });
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(200), { maxLength: 8 }), async (parts, at) => {
        const chunks = cut(Buffer.from(parts.join('')), at);
        expect(splitterLines(chunks)).toEqual(await readlineLines(chunks));
      }),
      { seed: 7, numRuns: 400 },
    );
  });

  test('a chunk is not kept: the unfinished line is a copy', () => {
    const s = new LineSplitter();
    const chunk = Buffer.from('{"a":1}\n{"b"');
    expect(s.push(chunk)).toEqual(['{"a":1}']);
    chunk.fill(0x20);
    expect(s.push(Buffer.from(':2}\n'))).toEqual(['{"b":2}']);
    expect(s.end()).toBeNull();
  });
});
