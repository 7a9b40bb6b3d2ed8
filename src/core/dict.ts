/**
 * Name-keyed records built from input. A plain `{}` treats `__proto__` as its prototype setter
 * and inherits `constructor`, `toString`, …; a record whose prototype chain holds nothing has only
 * the keys put in it, so every name is an ordinary key (and JSON.stringify / for…in still see them).
 */

// Instances of a constructor whose prototype is an empty null-prototype object: no inherited keys,
// no `__proto__` accessor, and fast properties — Object.create(null) would put every record in V8's
// slow dictionary mode and halve the analyzers' per-event loops.
function NullProto(): void {}
NullProto.prototype = Object.create(null) as object;

export function dict<T>(): Record<string, T> {
  return new (NullProto as unknown as new () => Record<string, T>)();
}

/**
 * `record` itself turned into a dict (its prototype replaced; its own keys, `__proto__` among them,
 * untouched). For an object the caller owns, e.g. fresh from JSON.parse: cheaper than copying its
 * keys into dict(), and records of the same keys share one hidden class as dict() records do.
 */
export function asDict<T>(record: object): Record<string, T> {
  return Object.setPrototypeOf(record, NullProto.prototype as object) as Record<string, T>;
}

/** The value stored under `key` itself, never one inherited from a prototype. */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
