/**
 * Name-keyed records built from input. A plain `{}` treats `__proto__` as its prototype setter
 * and inherits `constructor`, `toString`, …; a record without a prototype has only the keys put
 * in it, so every name is an ordinary key (and JSON.stringify / for…in still see them).
 */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The value stored under `key` itself, never one inherited from a prototype. */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
