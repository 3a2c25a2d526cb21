import { describe, expect, it } from 'vitest';
import { toHex } from './der';
import { digestSync } from './sha2';

describe('synchronous SHA-1 and SHA-2', () => {
  it('matches WebCrypto on lengths around the block boundaries', async () => {
    for (const len of [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000, 4099]) {
      const data = crypto.getRandomValues(new Uint8Array(len));
      for (const h of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const) {
        const expected = toHex(new Uint8Array(await crypto.subtle.digest(h, data)));
        expect(toHex(digestSync(h, data)), `${h} of ${len} bytes`).toBe(expected);
      }
    }
  });

  it('has the FIPS 180-2 "abc" answers', () => {
    const abc = new TextEncoder().encode('abc');
    expect(toHex(digestSync('SHA-256', abc))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(toHex(digestSync('SHA-384', abc))).toMatch(
      /^cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed/,
    );
  });
});
