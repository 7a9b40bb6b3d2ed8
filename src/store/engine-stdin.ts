/**
 * The embedded engine (chDB) takes the host process's file descriptor 0 as extra data for every
 * INSERT when it is a pipe or a regular file: with data waiting there, each insert fails ("async
 * inserts with both inlined and external data (from stdin…)"), and with async inserts off the
 * engine would insert stdin's bytes into our tables. So before the engine opens, fd 0 becomes
 * /dev/null, and the original stdin stays readable on another descriptor for `replay --input -`.
 */
import { closeSync, createReadStream, fstatSync, openSync } from 'node:fs';
import { Readable } from 'node:stream';

let moved: number | null | undefined;

/** Points fd 0 at /dev/null (once); a pipe or file on stdin is kept on a new descriptor. */
export function detachStdinFromEngine(): void {
  if (moved !== undefined || process.platform === 'win32') return;
  moved = null;
  let st;
  try {
    st = fstatSync(0);
  } catch {
    // fd 0 closed: the engine would take whatever file opens next as fd 0; give it /dev/null.
    openSync('/dev/null', 'r');
    return;
  }
  // The engine ignores terminals and sockets; only pipes and regular files reach it.
  if (!st.isFIFO() && !st.isFile()) return;
  // /dev/stdin re-opens the same pipe or file (a new descriptor that survives closing fd 0).
  moved = openSync('/dev/stdin', 'r');
  closeSync(0);
  const fd = openSync('/dev/null', 'r');
  if (fd !== 0) throw new Error(`could not detach stdin from the embedded engine (got fd ${fd})`);
}

/** The process's standard input, wherever detachStdinFromEngine() left it. */
export function standardInput(): Readable {
  return typeof moved === 'number' ? createReadStream('', { fd: moved }) : process.stdin;
}
