/**
 * Vector lengths per (model, vector name): fixed by config (limits.vectorLengths) or by the first
 * vector seen. A different length later is rejected, because every analyzer indexes by dimension.
 * At most `maxKeys` first-seen lengths are remembered (the oldest is forgotten first), so hostile
 * names cannot grow memory; a forgotten pair learns its length again from its next vector.
 */
export class VectorShapes {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly configured: Record<string, number> = {},
    private readonly maxKeys = Infinity,
  ) {}

  /** Returns null when the length is acceptable, else a description of the mismatch. */
  check(model: string, vector: string, length: number): string | null {
    const want = this.configured[vector];
    if (want !== undefined) return length === want ? null : `has length ${length}, configured ${want}`;
    const key = `${model}\u0000${vector}`;
    const first = this.seen.get(key);
    if (first === undefined) {
      if (this.seen.size >= this.maxKeys) this.seen.delete(this.seen.keys().next().value!);
      this.seen.set(key, length);
      return null;
    }
    return first === length ? null : `has length ${length}, first seen ${first}`;
  }

  get size(): number {
    return this.seen.size;
  }
}
