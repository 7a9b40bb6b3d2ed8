/**
 * Capacities of the collision engine from one memory budget (`collisions.memoryMb`): each table's
 * share (COLLISION_MEMORY_SHARES, in the schema) divided by what one entry costs. A capacity set
 * explicitly in the config wins over its share.
 */
import type { CollisionsConfig } from '../config/schema';
import { COLLISION_MEMORY_SHARES } from '../config/collision-shares';

/** Exact index: 24 B per slot, 1.33 slots per tracked fingerprint (exact-index.ts). */
export const EXACT_BYTES_PER_FINGERPRINT = 32;
/** Input table: 44 B per slot × 1.33 plus the id string it holds (≈ 40 B for a typical id). */
export const INPUT_BYTES_PER_ID = 112;
/** A cluster of a few members: members map, sample, labels, versions (measured ≈ 1.3 KB). */
export const CLUSTER_BYTES = 1536;

export interface CollisionCapacities {
  exactCapacity: number;
  inputCapacity: number;
  maxClusters: number;
  /** All near-collision windows together. */
  nearMaxBytes: number;
}

export function collisionCapacities(cfg: CollisionsConfig): CollisionCapacities {
  const budget = cfg.memoryMb * 2 ** 20;
  const share = (k: keyof typeof COLLISION_MEMORY_SHARES, per: number) =>
    Math.max(1, Math.floor((budget * COLLISION_MEMORY_SHARES[k]) / per));
  return {
    exactCapacity: cfg.exactCapacity ?? share('exact', EXACT_BYTES_PER_FINGERPRINT),
    inputCapacity: cfg.inputCapacity ?? share('input', INPUT_BYTES_PER_ID),
    maxClusters: cfg.maxClusters ?? share('clusters', CLUSTER_BYTES),
    nearMaxBytes: cfg.near.maxMemoryMb !== undefined ? cfg.near.maxMemoryMb * 2 ** 20 : share('near', 1),
  };
}
