/**
 * Vector lengths per (model, vector name): fixed by config (limits.vectorLengths) or by the first
 * *valid* vector seen. A different length later is rejected, because every analyzer indexes by
 * dimension. The decoder checks every vector of a message first and calls `remember` only once the
 * whole message is accepted, so a rejected message (or an empty vector) never fixes a dimension.
 */
import { own } from '../core/dict';

export class VectorShapes {
  private readonly seen = new Map<string, number>();
  constructor(private readonly configured: Record<string, number> = {}) {}

  /** Returns null when the length is acceptable, else a description of the mismatch. */
  check(model: string, vector: string, length: number): string | null {
    // Own keys only: a vector named `constructor` or `toString` has no configured length.
    const want = own(this.configured, vector);
    if (want !== undefined) return length === want ? null : `has length ${length}, configured ${want}`;
    const first = this.seen.get(key(model, vector));
    return first === undefined || first === length ? null : `has length ${length}, first seen ${first}`;
  }

  /** Fixes the length of an accepted vector (no-op when already fixed or configured). */
  remember(model: string, vector: string, length: number): void {
    if (own(this.configured, vector) !== undefined) return;
    const k = key(model, vector);
    if (!this.seen.has(k)) this.seen.set(k, length);
  }
}

// Names never contain U+0000 (the decoder rejects it), so the separator keeps keys distinct.
function key(model: string, vector: string): string {
  return `${model}\u0000${vector}`;
}
