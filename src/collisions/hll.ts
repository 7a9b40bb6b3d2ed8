/**
 * Tiny HyperLogLog for "distinct inputs" of a cluster once it outgrows its exact member set.
 *
 * API
 *   new TinyHll(p = 8)        2^p one-byte registers (p = 8: 256 B, standard error 1.04/√256 ≈ 6.5%).
 *   add(id: string): void     idempotent per id, so redeliveries never inflate the count.
 *   estimate(): number        with the linear-counting correction for small cardinalities.
 *   merge(other: TinyHll)     register-wise max (same p) — what ClickHouse's uniq states do too.
 *   registers: Uint8Array     exported as-is if a caller wants to ship the state.
 */
import { hashString32 } from './fingerprint';

export class TinyHll {
  readonly p: number;
  readonly registers: Uint8Array;

  constructor(p = 8) {
    if (p < 4 || p > 16) throw new Error('TinyHll p must be in 4..16');
    this.p = p;
    this.registers = new Uint8Array(1 << p);
  }

  add(id: string): void {
    const h = hashString32(id, 0x68b71f0d);
    const idx = h >>> (32 - this.p);
    const rest = (h << this.p) | (1 << (this.p - 1)); // sentinel bit bounds the rank
    const rank = Math.clz32(rest) + 1;
    if (rank > this.registers[idx]) this.registers[idx] = rank;
  }

  estimate(): number {
    const m = this.registers.length;
    let sum = 0,
      zeros = 0;
    for (let i = 0; i < m; i++) {
      sum += Math.pow(2, -this.registers[i]);
      if (this.registers[i] === 0) zeros++;
    }
    const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
    const raw = (alpha * m * m) / sum;
    if (raw <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
    return raw;
  }

  merge(other: TinyHll): void {
    if (other.p !== this.p) throw new Error('TinyHll precision mismatch');
    for (let i = 0; i < this.registers.length; i++) if (other.registers[i] > this.registers[i]) this.registers[i] = other.registers[i];
  }
}
