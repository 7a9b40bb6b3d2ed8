/**
 * Physical layout of the tables that hold partial state. Each flush unit's rows go to
 * `<table>_parts`; readers query `<table>`, a view that leaves out superseded units. Analyzers
 * name the logical table; the writer maps it here.
 */
export const PARTIAL_TABLES = [
  'feature_stats',
  'vector_stats',
  'rejections',
  'drift_state',
  'collision_window_stats',
  'constraint_counts',
] as const;

export const SUPERSEDED_TABLE = 'superseded_units';

const PARTIAL = new Set<string>(PARTIAL_TABLES);

/** The table a logical table's rows are inserted into. */
export function partsTable(table: string): string {
  return PARTIAL.has(table) ? `${table}_parts` : table;
}
