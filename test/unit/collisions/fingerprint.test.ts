import {
  fingerprint,
  fingerprintFromHex,
  fingerprintHex,
  fingerprintWords,
  isDegenerate,
  keySeed,
} from '../../../src/collisions/fingerprint';
import { randomVector, rng } from './helpers';

const fp = (v: Float32Array, seed = 0) => fingerprintHex(fingerprint(v, new Uint32Array(4), seed));

describe('fingerprint', () => {
  test('equal bytes give equal fingerprints; −0.0 and +0.0 are the same value', () => {
    const r = rng(1);
    for (const dim of [1, 2, 3, 5, 32, 127, 128, 768]) {
      const v = randomVector(r, dim);
      v[0] = 0;
      const w = v.slice();
      w[0] = -0;
      expect(Object.is(w[0], -0)).toBe(true);
      expect(fp(w)).toBe(fp(v));
      expect(fp(v.slice())).toBe(fp(v));
    }
  });

  test('a vector hashes as its own words, wherever it sits in its buffer and whatever its length (NaN bits included)', () => {
    const r = rng(5);
    const words = (v: Float32Array) =>
      fingerprintHex(fingerprintWords(new Uint32Array(v.buffer, v.byteOffset, v.length), new Uint32Array(4), 9));
    const buf = new Float32Array(5000);
    for (let i = 0; i < buf.length; i++) buf[i] = r() - 0.5;
    new Uint32Array(buf.buffer)[3] = 0x7fc00123; // a NaN with a payload
    // Short and long (past the scratch copy's first size) in turn, at odd offsets.
    for (const [off, dim] of [
      [3, 64],
      [1, 1000],
      [7, 5],
      [0, 4096],
      [2, 128],
    ]) {
      const v = buf.subarray(off, off + dim);
      expect(fingerprintHex(fingerprint(v, new Uint32Array(4), 9))).toBe(words(v));
    }
  });

  test('any single-bit change changes the fingerprint (no collisions over 100k random vectors)', () => {
    const r = rng(2);
    const seen = new Set<string>();
    const base = randomVector(r, 64);
    const words = new Uint32Array(base.buffer);
    seen.add(fp(base));
    for (let i = 0; i < words.length; i++) {
      for (let b = 0; b < 32; b++) {
        const w = words.slice();
        w[i] ^= 1 << b;
        if (w[i] === 0x80000000 && words[i] === 0) continue; // that is the −0 ≡ +0 case
        const h = fp(new Float32Array(w.buffer));
        expect(seen.has(h)).toBe(false);
        seen.add(h);
      }
    }
    for (let i = 0; i < 100_000 - words.length * 32; i++) seen.add(fp(randomVector(r, 8)));
    expect(seen.size).toBe(100_001); // base + every flip + every random vector: all distinct
  });

  test('length is part of the fingerprint, and the key seed scopes it', () => {
    expect(fp(new Float32Array([1, 2, 0]))).not.toBe(fp(new Float32Array([1, 2])));
    const v = new Float32Array([0.5, -1, 3]);
    expect(fp(v, keySeed('a', 'x'))).not.toBe(fp(v, keySeed('b', 'x')));
    expect(fp(v, keySeed('a', 'x'))).toBe(fp(v.slice(), keySeed('a', 'x')));
  });

  test('works on views into a larger buffer (as the binary decoder hands them out)', () => {
    const r = rng(3);
    const big = randomVector(r, 128 * 4);
    const view = big.subarray(128, 256);
    expect(fp(view)).toBe(fp(view.slice()));
  });

  test('hex round trip', () => {
    const out = fingerprint(new Float32Array([1, 2, 3, 4, 5]), new Uint32Array(4));
    expect(Array.from(fingerprintFromHex(fingerprintHex(out)))).toEqual(Array.from(out));
  });

  test('degenerate vectors', () => {
    expect(isDegenerate(new Float32Array(16))).toBe('zero');
    expect(isDegenerate(new Float32Array([0, -0, 0]))).toBe('zero');
    expect(isDegenerate(new Float32Array([0.25, 0.25, 0.25]))).toBe('constant');
    expect(isDegenerate(new Float32Array([0.25, 0.25, 0.26]))).toBeNull();
  });
});
