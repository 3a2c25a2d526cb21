import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificationRequestPem, createCertificationRequest } from './csr';

describe('createCertificationRequest', () => {
  it('makes a PKCS#10 request that openssl verifies, from a non-extractable ECDSA key', async () => {
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const der = await createCertificationRequest(keys, { commonName: '张三' });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sidian-csr-')), 'req.pem');
    writeFileSync(file, certificationRequestPem(der));
    const out = execFileSync(
      'openssl',
      ['req', '-in', file, '-noout', '-verify', '-subject', '-nameopt', 'utf8'],
      { encoding: 'utf8', stdio: 'pipe' },
    );
    expect(out).toContain('张三');
  });

  it('refuses an empty name', async () => {
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    await expect(createCertificationRequest(keys, { commonName: ' ' })).rejects.toMatchObject({
      code: 'SIGN_BAD_OPTIONS',
    });
  });
});
