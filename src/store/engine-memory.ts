/**
 * The embedded engine's allocator (jemalloc, configured by JE_MALLOC_CONF when the engine's library
 * loads) keeps freed pages resident for seconds by default: after one insert of 58k lookup pairs
 * (a flush of 100k events) the process held ~100 MB more than the engine used, and the next flush
 * stacked onto it. Returned at once, the resident set follows what the engine uses (measured: a few
 * percent more system time in a replay). A JE_MALLOC_CONF in the environment is left as it is.
 */
const RETURN_FREED_PAGES = 'dirty_decay_ms:0,muzzy_decay_ms:0';

/** Call before the engine's library is first required. */
export function configureEngineMemory(): void {
  process.env.JE_MALLOC_CONF ??= RETURN_FREED_PAGES;
}
