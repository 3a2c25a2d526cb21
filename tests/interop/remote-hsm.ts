/**
 * A stand-in for a department HSM behind a "digest out, signature in" API: openssl signs the
 * pre-computed digest with a key that never enters our process (`openssl pkeyutl -sign`).
 */
import { openssl } from '../helpers/openssl-pki';

export async function ecdsaSignDigestForTest(keyFile: string, digest: Uint8Array): Promise<Uint8Array> {
  const der = openssl(['pkeyutl', '-sign', '-inkey', keyFile, '-pkeyopt', 'digest:sha256'], { input: digest });
  return new Uint8Array(der);
}
