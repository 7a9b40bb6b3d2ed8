/**
 * Sums the per-vector counts that CollisionDetector.observe returns, by (model, vector): the replay
 * report's whole-input totals. The pipeline's per-window rows sum the same counts
 * (src/analyzers/collisions.ts), so every consumer reads one counter system.
 */
import { addCounters, zeroCounters, type DetectorCounters, type Observation } from './detector';

export interface TallyRow extends DetectorCounters {
  model: string;
  vector: string;
}

export class CollisionTally {
  private readonly rows = new Map<string, TallyRow>();

  add(model: string, obs: Observation): void {
    for (const c of obs.vectors) {
      const key = model + '\u0000' + c.vector;
      let r = this.rows.get(key);
      if (!r) this.rows.set(key, (r = { model, vector: c.vector, ...zeroCounters() }));
      addCounters(r, c);
    }
  }

  all(): TallyRow[] {
    return [...this.rows.values()];
  }
}
