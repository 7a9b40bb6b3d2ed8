/**
 * Float32 storage for decoded vectors, carved out of shared 16 KiB buffers. A `new
 * Float32Array(64)` gets a backing store of its own outside the JS heap (allocation, external
 * memory accounting and a finalizer in the collector), which cost the JSON decoder about as much as
 * the checks of a whole message; a view on a shared buffer is an ordinary heap object. A vector
 * kept after its event is gone keeps its buffer alive (at most 16 KiB); the analyzers copy what
 * they keep. Vectors of more than 1024 floats get a buffer of their own.
 */
const SLAB_BYTES = 16 * 1024;
const MAX_SHARED_BYTES = 4 * 1024;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** A zero-filled Float32Array of `length` elements, owned by the caller. */
export function takeFloat32(length: number): Float32Array {
  const bytes = length * 4;
  if (bytes > MAX_SHARED_BYTES) return new Float32Array(length);
  if (used + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const out = new Float32Array(slab, used, length);
  used += bytes;
  return out;
}
