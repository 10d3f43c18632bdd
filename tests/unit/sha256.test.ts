/**
 * The page's streaming SHA-256 (src/core/hub/sha256.ts) against node:crypto: every length
 * around the 55/56/64-byte padding boundaries, and random data fed in random pieces (the
 * pieces a download or a Blob read hands over). Exact equality of the hex digests.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../src/core/hub/sha256.ts';
import { mulberry32 } from '../../src/core/model/random.ts';

const node = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function bytes(n: number, seed: number): Uint8Array {
  const r = mulberry32(seed), out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

describe('Sha256', () => {
  it('known answers: empty and "abc" (FIPS 180-4 examples)', () => {
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new Sha256().update(new TextEncoder().encode('abc')).hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('equals node:crypto for every length 0…200 in one piece', () => {
    for (let n = 0; n <= 200; n++) {
      const b = bytes(n, n + 1);
      expect(new Sha256().update(b).hex(), `length ${n}`).toBe(node(b));
    }
  });

  it('equals node:crypto on 1 MB fed in 300 random pieces (seeded), and is stable after hex()', () => {
    const b = bytes(1_000_003, 7), r = mulberry32(3);
    for (let round = 0; round < 5; round++) {
      const h = new Sha256();
      let at = 0;
      while (at < b.byteLength) {
        const n = Math.min(b.byteLength - at, Math.floor(r() * 7000));
        h.update(b.subarray(at, at + n));
        at += n;
      }
      const want = node(b);
      expect(h.hex()).toBe(want);
      expect(h.hex()).toBe(want);
      expect(() => h.update(b)).toThrow(/after digest/);
    }
  });
});
