/**
 * The embedded engine's allocator (jemalloc, configured by JE_MALLOC_CONF when the engine's library
 * loads) keeps freed pages resident for seconds by default. An insert of 60k lookup pairs
 * allocates ~100 MB transiently; kept, those pages stacked flush after flush onto the process's
 * resident set (a 200k-event replay peaked ~90 MB higher). Returned at once, the process holds what
 * the engine uses. A JE_MALLOC_CONF in the environment is left as it is.
 */
const RETURN_FREED_PAGES = 'dirty_decay_ms:0,muzzy_decay_ms:0';

/** Call before the engine's library is first required. */
export function configureEngineMemory(): void {
  process.env.JE_MALLOC_CONF ??= RETURN_FREED_PAGES;
}
