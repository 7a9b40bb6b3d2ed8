/** Collision engine: exact, near and embedding-table collisions. See each module's header for its API. */
export * from './fingerprint';
export * from './exact-index';
export * from './input-table';
export * from './hll';
export * from './clusters';
export * from './near-index';
export * from './lookups';
export * from './detector';
export * from './tally';
export * from './budget';
export * from './report';
