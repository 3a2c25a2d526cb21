import { describe, expect, it } from 'vitest';
import { openssl } from '../../../../tests/helpers/openssl-pki';
import { fromHex, toHex } from './der';
import { BadPaddingError, desEde3CbcDecrypt, desEncryptBlock, rc2CbcDecrypt, rc4 } from './legacy-ciphers';

const LEGACY = ['-provider', 'legacy', '-provider', 'default'];
const text = new TextEncoder().encode(
  '项城市市场监督管理局 — legacy PKCS#12 bags are small: ' + 'x'.repeat(77),
);
const iv = '0102030405060708';

describe('legacy ciphers (decrypt only)', () => {
  it('DES has the classic known answer', () => {
    expect(toHex(desEncryptBlock(fromHex('133457799bbcdff1'), fromHex('0123456789abcdef')))).toBe(
      '85e813540f0ab405',
    );
  });

  it('DES-EDE3-CBC decrypts what openssl enc encrypts (3-key and 2-key)', () => {
    const k3 = '0123456789abcdeffedcba987654321089abcdef01234567';
    const ct = openssl(['enc', '-des-ede3-cbc', '-K', k3, '-iv', iv], { input: text });
    expect(desEde3CbcDecrypt(fromHex(k3), fromHex(iv), ct)).toEqual(text);
    const k2 = '0123456789abcdeffedcba9876543210';
    const ct2 = openssl(['enc', '-des-ede-cbc', '-K', k2, '-iv', iv], { input: text });
    expect(desEde3CbcDecrypt(fromHex(k2), fromHex(iv), ct2)).toEqual(text);
  });

  it('RC2-CBC decrypts what openssl enc encrypts (40 and 128 effective bits)', () => {
    const ct40 = openssl(['enc', ...LEGACY, '-rc2-40-cbc', '-K', 'a1b2c3d4e5', '-iv', iv], { input: text });
    expect(rc2CbcDecrypt(fromHex('a1b2c3d4e5'), 40, fromHex(iv), ct40)).toEqual(text);
    const k16 = '00112233445566778899aabbccddeeff';
    const ct128 = openssl(['enc', ...LEGACY, '-rc2-cbc', '-K', k16, '-iv', iv], { input: text });
    expect(rc2CbcDecrypt(fromHex(k16), 128, fromHex(iv), ct128)).toEqual(text);
  });

  it('RC4 matches openssl', () => {
    const k = '0102030405';
    const ct = openssl(['enc', ...LEGACY, '-rc4-40', '-K', k], { input: text });
    expect(rc4(fromHex(k), ct)).toEqual(text);
  });

  it('reports bad padding (the usual wrong-password symptom)', () => {
    const k3 = '0123456789abcdeffedcba987654321089abcdef01234567';
    const ct = openssl(['enc', '-des-ede3-cbc', '-K', k3, '-iv', iv], { input: text });
    const wrong = fromHex(k3.replace(/^01/, '11'));
    expect(() => desEde3CbcDecrypt(wrong, fromHex(iv), ct)).toThrow(BadPaddingError);
    expect(() => desEde3CbcDecrypt(fromHex(k3), fromHex(iv), ct.subarray(0, 7))).toThrow(BadPaddingError);
  });
});
