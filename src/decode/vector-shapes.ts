/**
 * Vector lengths per (model, vector name): fixed by config (limits.vectorLengths) or by the first
 * *valid* vector seen. A different length later is rejected, because every analyzer indexes by
 * dimension. The decoder checks every vector of a message first and calls `remember` only once the
 * whole message is accepted, so a rejected message (or an empty vector) never fixes a dimension.
 * At most `maxKeys` first-seen lengths are remembered (the oldest model's are forgotten first), so
 * hostile names cannot grow memory; a forgotten pair learns its length again from its next vector.
 */
import { own } from '../core/dict';

export class VectorShapes {
  /** model → vector name → length (nested maps: no key string built per message). */
  private readonly seen = new Map<string, Map<string, number>>();
  private readonly anyConfigured: boolean;
  private remembered = 0;
  constructor(
    private readonly configured: Record<string, number> = {},
    private readonly maxKeys = Infinity,
  ) {
    this.anyConfigured = Object.keys(configured).length > 0;
  }

  /** The configured length; own keys only, so a vector named `constructor` or `toString` has none. */
  private want(vector: string): number | undefined {
    return this.anyConfigured ? own(this.configured, vector) : undefined;
  }

  /** Returns null when the length is acceptable, else a description of the mismatch. */
  check(model: string, vector: string, length: number): string | null {
    const want = this.want(vector);
    if (want !== undefined) return length === want ? null : `has length ${length}, configured ${want}`;
    const first = this.seen.get(model)?.get(vector);
    return first === undefined || first === length ? null : `has length ${length}, first seen ${first}`;
  }

  /** Fixes the length of an accepted vector (no-op when already fixed or configured). */
  remember(model: string, vector: string, length: number): void {
    if (this.want(vector) !== undefined) return;
    let m = this.seen.get(model);
    if (m?.has(vector)) return;
    while (this.remembered >= this.maxKeys && this.seen.size) {
      const [oldest, vs] = this.seen.entries().next().value!;
      this.seen.delete(oldest);
      this.remembered -= vs.size;
      if (oldest === model) m = undefined;
    }
    if (!m) this.seen.set(model, (m = new Map()));
    m.set(vector, length);
    this.remembered++;
  }

  get size(): number {
    return this.seen.size;
  }
}
