/**
 * 128-bit fingerprints of the canonical float32 bytes of a vector.
 *
 * API
 *   fingerprint(v: Float32Array, out: Uint32Array, seed = 0, outOffset = 0): Uint32Array
 *       Writes 4 uint32 words (the 128-bit fingerprint) into out[outOffset..+4]; returns out.
 *   fingerprintWords(words: Uint32Array, out, seed = 0, outOffset = 0): Uint32Array
 *       Same, on the raw little-endian float32 bit patterns.
 *   fingerprintHex(fp: Uint32Array, offset = 0): string     32 lowercase hex chars.
 *   fingerprintFromHex(hex: string, out?: Uint32Array): Uint32Array
 *   fingerprintEquals(a, ao, b, bo): boolean
 *   hashString32(s: string, seed = 0): number                 murmur3-32 over UTF-16 code units.
 *   hashString64(s: string, out: Uint32Array, seed = 0): Uint32Array   two independent 32-bit lanes.
 *   keySeed(model: string, vector: string): number            seed that scopes fingerprints to a key.
 *   isDegenerate(v: Float32Array): 'zero' | 'constant' | null
 *
 * Canonical form: each float32 bit pattern, with −0.0 (0x80000000) mapped to +0.0. NaN cannot
 * occur (the decoder rejects non-finite values), so no NaN canonicalisation is needed.
 *
 * Algorithm: MurmurHash3 x86_128 (four 32-bit lanes, Math.imul, public domain by Austin Appleby)
 * over the canonical words, with the vector length in the finalisation. It is not the reference
 * byte-oriented murmur3 (we feed whole words, which the format guarantees), but the same mixing.
 * Why hand-written rather than hash-wasm's xxhash128: a JS→WASM call has to copy the vector into
 * WASM memory and then read the digest back as a hex string (or a Uint8Array); for a 512-byte
 * input that fixed cost dominates. Measured in bench/RESULTS.md, "Collision engine".
 *
 * Accidental collisions: for n distinct vectors under one key the probability that any two share a
 * fingerprint is about n²/2¹²⁹ (n = 10⁹ → 1.5·10⁻²¹), so a fingerprint match is treated as equality.
 * murmur3 is not collision-resistant against an adversary who can choose vectors to collide; an
 * attacker who does that only produces a report about vectors they crafted themselves, and the
 * per-key seed (keySeed) makes offline crafting key-specific.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;
const NEG_ZERO = 0x80000000;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** Canonical word: −0.0 becomes +0.0. */
function canon(w: number): number {
  return w === NEG_ZERO ? 0 : w;
}

export function fingerprintWords(words: Uint32Array, out: Uint32Array, seed = 0, outOffset = 0): Uint32Array {
  return hashWords(words, words.length, out, seed, outOffset);
}

/** The first `n` words of `words`. */
function hashWords(words: Uint32Array, n: number, out: Uint32Array, seed: number, outOffset: number): Uint32Array {
  let h1 = seed | 0;
  let h2 = seed | 0;
  let h3 = seed | 0;
  let h4 = seed | 0;
  const blocks = n & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    let k1 = canon(words[i]);
    let k2 = canon(words[i + 1]);
    let k3 = canon(words[i + 2]);
    let k4 = canon(words[i + 3]);

    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(k2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    k2 = Math.imul(k2, C3);
    h2 ^= k2;
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (h2 + h3) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(k3, C3);
    k3 = (k3 << 17) | (k3 >>> 15);
    k3 = Math.imul(k3, C4);
    h3 ^= k3;
    h3 = (h3 << 15) | (h3 >>> 17);
    h3 = (h3 + h4) | 0;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(k4, C4);
    k4 = (k4 << 18) | (k4 >>> 14);
    k4 = Math.imul(k4, C1);
    h4 ^= k4;
    h4 = (h4 << 13) | (h4 >>> 19);
    h4 = (h4 + h1) | 0;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }
  // Tail: up to 3 words, one per lane (word-aligned variant of murmur3's byte tail).
  const rem = n - i;
  if (rem >= 3) {
    let k3 = canon(words[i + 2]);
    k3 = Math.imul(k3, C3);
    k3 = (k3 << 17) | (k3 >>> 15);
    k3 = Math.imul(k3, C4);
    h3 ^= k3;
  }
  if (rem >= 2) {
    let k2 = canon(words[i + 1]);
    k2 = Math.imul(k2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    k2 = Math.imul(k2, C3);
    h2 ^= k2;
  }
  if (rem >= 1) {
    let k1 = canon(words[i]);
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
  }
  const len = n * 4;
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2) | 0;
  h1 = (h1 + h3) | 0;
  h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2) | 0;
  h1 = (h1 + h3) | 0;
  h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[outOffset] = h1;
  out[outOffset + 1] = h2;
  out[outOffset + 2] = h3;
  out[outOffset + 3] = h4;
  return out;
}

// The vector's bits are hashed from one scratch copy (a same-type set() copies bytes, NaN payloads
// included): a Uint32Array view on each vector's own buffer was an allocation per vector.
let scratch = new Float32Array(256);
let scratchWords = new Uint32Array(scratch.buffer);

/** Fingerprint of a float32 vector's bits. */
export function fingerprint(v: Float32Array, out: Uint32Array, seed = 0, outOffset = 0): Uint32Array {
  const n = v.length;
  if (n > scratch.length) {
    scratch = new Float32Array(n);
    scratchWords = new Uint32Array(scratch.buffer);
  }
  scratch.set(v);
  return hashWords(scratchWords, n, out, seed, outOffset);
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

function wordHex(w: number): string {
  return HEX[(w >>> 24) & 255] + HEX[(w >>> 16) & 255] + HEX[(w >>> 8) & 255] + HEX[w & 255];
}

export function fingerprintHex(fp: Uint32Array, offset = 0): string {
  return wordHex(fp[offset]) + wordHex(fp[offset + 1]) + wordHex(fp[offset + 2]) + wordHex(fp[offset + 3]);
}

export function fingerprintFromHex(hex: string, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a 128-bit hex fingerprint: ${hex}`);
  for (let i = 0; i < 4; i++) out[i] = parseInt(hex.slice(i * 8, i * 8 + 8), 16);
  return out;
}

export function fingerprintEquals(a: Uint32Array, ao: number, b: Uint32Array, bo: number): boolean {
  return a[ao] === b[bo] && a[ao + 1] === b[bo + 1] && a[ao + 2] === b[bo + 2] && a[ao + 3] === b[bo + 3];
}

/** murmur3-32 over UTF-16 code units (two per block); ids are short, this is only a table key. */
export function hashString32(s: string, seed = 0): number {
  let h = seed | 0;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = s.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n * 2;
  return fmix32(h) >>> 0;
}

/** 64 bits as two independently seeded murmur3-32 lanes, in one pass over the string. */
export function hashString64(s: string, out: Uint32Array, seed = 0): Uint32Array {
  let h = seed | 0,
    g = (seed ^ 0x9e3779b9) | 0;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    g ^= k;
    g = (g << 13) | (g >>> 19);
    g = (Math.imul(g, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = s.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    g ^= k;
  }
  out[0] = fmix32(h ^ (n * 2)) >>> 0;
  out[1] = fmix32(g ^ (n * 2)) >>> 0;
  return out;
}

/** Seed that scopes fingerprints to one (model, vector name): equal vectors under different keys never match. */
export function keySeed(model: string, vector: string): number {
  return hashString32(model + '\u0000' + vector, 0x5f3759df);
}

/** Flags all-zero (including −0.0) and constant vectors, which collide trivially and say nothing about inputs. */
export function isDegenerate(v: Float32Array): 'zero' | 'constant' | null {
  const n = v.length;
  if (n === 0) return 'zero';
  const first = v[0];
  for (let i = 1; i < n; i++) if (v[i] !== first) return null; // −0 === 0 in JS, as wanted
  return first === 0 ? 'zero' : 'constant';
}
