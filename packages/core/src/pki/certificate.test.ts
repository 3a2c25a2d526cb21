import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Ca,
  type Entity,
  createCa,
  issueCertificate,
  issueExpiredCertificate,
  issueNotYetValidCertificate,
  makeTempDir,
  removeDir,
} from '../../../../tests/helpers/openssl-pki';
import { SidianError } from '../errors';
import { assertCertificateUsable, describeName, nameAttribute, parseCertificate } from './certificate';
import { OID } from './oids';

let dir: string;
let ca: Ca;
let leaf: Entity;

beforeAll(() => {
  dir = makeTempDir();
  ca = createCa(dir, { key: 'p-256' });
  leaf = issueCertificate(ca, {
    name: 'seal',
    subject: '/C=CN/O=项城市/CN=项城市市场监督管理局',
    key: 'rsa-2048',
  });
});
afterAll(() => removeDir(dir));

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as SidianError).code;
  }
  return 'no error';
};

describe('parseCertificate', () => {
  it('reads names (UTF-8), serial, validity and the public key', () => {
    const c = parseCertificate(leaf.certDer);
    expect(nameAttribute(c.subject, OID.commonName)).toBe('项城市市场监督管理局');
    expect(describeName(c.subject)).toBe('CN=项城市市场监督管理局, O=项城市, C=CN');
    expect(c.issuer).toEqual(parseCertificate(ca.certDer).subject);
    expect(c.publicKey.kind).toBe('rsa');
    if (c.publicKey.kind === 'rsa') expect(c.publicKey.modulusBits).toBe(2048);
    const ca0 = parseCertificate(ca.certDer);
    expect(ca0.publicKey).toMatchObject({ kind: 'ec', curve: 'P-256' });
    expect(c.notAfter.getTime() - c.notBefore.getTime()).toBe(365 * 86400_000);
    expect(c.serialNumberDer[0]).toBe(0x02);
    expect(c.extensions.get(OID.keyUsage)?.critical).toBe(true);
  });

  it('rejects junk with CERT_MALFORMED', () => {
    expect(codeOf(() => parseCertificate(new Uint8Array([0x30, 0x03, 1, 2, 3])))).toBe('CERT_MALFORMED');
    expect(codeOf(() => parseCertificate(leaf.certDer.subarray(0, 100)))).toBe('CERT_MALFORMED');
  });
});

describe('assertCertificateUsable', () => {
  it('accepts a current certificate', () => {
    expect(() => assertCertificateUsable(leaf.certDer, new Date())).not.toThrow();
  });
  it('reports expired and not-yet-valid certificates', () => {
    const old = issueExpiredCertificate(ca, { name: 'old', subject: '/CN=Expired Signer' });
    const future = issueNotYetValidCertificate(ca, { name: 'future', subject: '/CN=Future Signer' });
    expect(codeOf(() => assertCertificateUsable(old.certDer, new Date()))).toBe('CERT_EXPIRED');
    expect(codeOf(() => assertCertificateUsable(future.certDer, new Date()))).toBe('CERT_NOT_YET_VALID');
    // ...and judges at the given time, not now
    const c = parseCertificate(old.certDer);
    expect(() => assertCertificateUsable(old.certDer, new Date(c.notBefore.getTime() + 1000))).not.toThrow();
  });
  it('reports malformed input', () => {
    expect(codeOf(() => assertCertificateUsable(new Uint8Array(10), new Date()))).toBe('CERT_MALFORMED');
  });
});
