/**
 * Shares of `collisions.memoryMb` for the capacities that are not set explicitly. Apart from the
 * schema so the collision detector's worker thread loads no validation library.
 */
export const COLLISION_MEMORY_SHARES = { exact: 0.35, input: 0.15, clusters: 0.2, near: 0.3 } as const;
