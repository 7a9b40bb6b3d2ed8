/**
 * NDJSON lines from a byte stream, split where node:readline (crlfDelay: Infinity) splits them —
 * at `\n`, `\r\n` (also across chunks) and a lone `\r` — but on bytes: one memchr per break and
 * one UTF-8 decode per line, no regex over decoded text and no promise per line. A line cut by a
 * chunk boundary is decoded only once whole, so a multi-byte character split there stays intact.
 */
const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  /** The bytes of an unfinished line (copied: a stream may reuse its chunk's memory). */
  private rest: Buffer | null = null;
  /** The last chunk ended with `\r`: a `\n` opening the next one belongs to that break. */
  private crPending = false;

  /** The lines this chunk completes, in order. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    const len = chunk.length;
    let i = 0;
    if (this.crPending && len > 0) {
      this.crPending = false;
      if (chunk[0] === LF) i = 1;
    }
    let nl = chunk.indexOf(LF, i);
    // Most inputs have no `\r` at all: one scan tells, and the loop then looks for `\n` only.
    let cr = chunk.indexOf(CR, i);
    while (nl !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr !== -1 && (nl === -1 || cr < nl)) {
        end = cr;
        if (cr + 1 < len) next = chunk[cr + 1] === LF ? cr + 2 : cr + 1;
        else {
          next = len;
          this.crPending = true;
        }
      } else {
        end = nl;
        next = nl + 1;
      }
      out.push(this.line(chunk, i, end));
      i = next;
      if (nl !== -1 && nl < i) nl = chunk.indexOf(LF, i);
      if (cr !== -1 && cr < i) cr = chunk.indexOf(CR, i);
    }
    if (i < len) {
      const tail = chunk.subarray(i);
      this.rest = this.rest ? Buffer.concat([this.rest, tail]) : Buffer.from(tail);
    }
    return out;
  }

  /** The last line when the input does not end with a line break (null when it does). */
  end(): string | null {
    const r = this.rest;
    this.rest = null;
    return r && r.length > 0 ? r.toString('utf8') : null;
  }

  private line(chunk: Buffer, from: number, to: number): string {
    if (this.rest === null) return chunk.toString('utf8', from, to);
    const whole = Buffer.concat([this.rest, chunk.subarray(from, to)]);
    this.rest = null;
    return whole.toString('utf8');
  }
}
