/**
 * Vector lengths per (model, vector name): fixed by config (limits.vectorLengths) or by the first
 * vector seen. A different length later is rejected, because every analyzer indexes by dimension.
 */
export class VectorShapes {
  private readonly seen = new Map<string, number>();
  constructor(private readonly configured: Record<string, number> = {}) {}

  /** Returns null when the length is acceptable, else a description of the mismatch. */
  check(model: string, vector: string, length: number): string | null {
    const want = this.configured[vector];
    if (want !== undefined) return length === want ? null : `has length ${length}, configured ${want}`;
    const key = `${model}\u0000${vector}`;
    const first = this.seen.get(key);
    if (first === undefined) {
      this.seen.set(key, length);
      return null;
    }
    return first === length ? null : `has length ${length}, first seen ${first}`;
  }
}
