/** The enrolment CA: issues citizens' certificates from PKCS#10 requests and publishes the CRL. */
import * as asn1js from 'asn1js';
import type { Citizen } from '../auth';
import type { AuditLog } from '../audit';
import type { Db } from '../db/index';
import { badRequest, notFound, unprocessable } from '../errors';
import { issueCertificate, type ServerPki } from './dev-pki';
import { ECDSA_SHA256, fromPem, randomSerial, toPem, x509 } from './x509';

const YEAR = 365 * 24 * 3600 * 1000;

export interface EnrolResult {
  serialNumber: string;
  certificate: string; // PEM
  chain: string[]; // PEM, issuers
}

export class EnrolmentCa {
  private crlCache?: { der: Uint8Array; until: number };
  private crlNumber = BigInt(Date.now());

  constructor(
    private readonly db: Db,
    private readonly pki: ServerPki,
    private readonly audit: AuditLog,
    private readonly o: { publicUrl?: string; validityMs?: number } = {},
  ) {}

  private parseCsr(input: Uint8Array | string): x509.Pkcs10CertificateRequest {
    try {
      if (typeof input === 'string') {
        const s = input.trim();
        if (s.startsWith('-----BEGIN')) {
          const [der] = [...fromPem(s, 'CERTIFICATE REQUEST'), ...fromPem(s, 'NEW CERTIFICATE REQUEST')];
          if (!der) throw new Error('no CERTIFICATE REQUEST block');
          return new x509.Pkcs10CertificateRequest(der);
        }
        return new x509.Pkcs10CertificateRequest(new Uint8Array(Buffer.from(s, 'base64')));
      }
      return new x509.Pkcs10CertificateRequest(new Uint8Array(input));
    } catch {
      throw badRequest('the certificate request is not a PKCS#10 CSR (PEM, base64 or DER)', 'CSR_MALFORMED');
    }
  }

  async enrol(csrInput: Uint8Array | string, who: Citizen): Promise<EnrolResult> {
    const csr = this.parseCsr(csrInput);
    const alg = csr.publicKey.algorithm as EcKeyAlgorithm & RsaHashedKeyAlgorithm;
    const ok =
      (alg.name === 'ECDSA' && ['P-256', 'P-384'].includes(alg.namedCurve)) ||
      ((alg.name === 'RSASSA-PKCS1-v1_5' || alg.name === 'RSA-PSS') && (alg.modulusLength ?? 0) >= 2048);
    if (!ok)
      throw unprocessable(
        'the key must be ECDSA P-256/P-384 or RSA of at least 2048 bits',
        'CSR_KEY_UNSUPPORTED',
      );
    let pop = false;
    try {
      pop = await csr.verify();
    } catch {
      pop = false;
    }
    if (!pop)
      throw unprocessable(
        'the CSR signature does not verify with its public key (no proof of possession)',
        'CSR_POP_FAILED',
      );

    const serial = randomSerial();
    const subject: x509.JsonName = [
      { '2.5.4.6': ['CN'] },
      { '2.5.4.5': [who.id.replace(/^citizen:/, '')] },
      { '2.5.4.3': [who.name] },
    ];
    const cert = await issueCertificate(this.pki.ca, {
      subject,
      publicKey: csr.publicKey,
      profile: 'signer',
      validityMs: this.o.validityMs ?? YEAR,
      serialNumber: serial,
      crlUrl: this.o.publicUrl ? `${this.o.publicUrl.replace(/\/+$/, '')}/api/crl` : undefined,
    });
    const der = new Uint8Array(cert.rawData);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('certificates')
        .values({
          serial,
          kind: 'citizen',
          subject: cert.subject,
          subject_hash: who.id,
          issued_at: new Date().toISOString(),
          not_after: cert.notAfter.toISOString(),
          der: Buffer.from(der).toString('base64'),
          revoked_at: null,
          revocation_reason: null,
        })
        .execute();
      await this.audit.append(trx, {
        actor: who.id,
        action: 'certificate.enrol',
        subject: `certificate:${serial}`,
      });
    });
    return {
      serialNumber: serial,
      certificate: toPem(der, 'CERTIFICATE'),
      chain: [toPem(this.pki.ca.der, 'CERTIFICATE')],
    };
  }

  async revoke(serial: string, reason: number, actor: string, owner?: string): Promise<void> {
    const s = serial.toLowerCase();
    if (!/^[0-9a-f]{1,64}$/.test(s)) throw badRequest('serial must be hex');
    await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('certificates')
        .select(['serial', 'revoked_at', 'subject_hash'])
        .where('serial', '=', s)
        .executeTakeFirst();
      if (!row || (owner && row.subject_hash !== owner)) throw notFound('no such certificate');
      if (row.revoked_at) return;
      await trx
        .updateTable('certificates')
        .set({ revoked_at: new Date().toISOString(), revocation_reason: reason })
        .where('serial', '=', s)
        .execute();
      await this.audit.append(trx, { actor, action: 'certificate.revoke', subject: `certificate:${s}` });
    });
    this.crlCache = undefined;
  }

  /** DER CRL signed by the CA; regenerated on revocation and at least hourly. */
  async crl(): Promise<Uint8Array> {
    const now = Date.now();
    if (this.crlCache && this.crlCache.until > now) return this.crlCache.der;
    const rows = await this.db
      .selectFrom('certificates')
      .select(['serial', 'revoked_at', 'revocation_reason'])
      .where('revoked_at', 'is not', null)
      .orderBy('serial')
      .execute();
    this.crlNumber += 1n;
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.pki.ca.cert.subjectName,
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + 24 * 3600_000),
      signingKey: this.pki.ca.key,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(this.pki.ca.cert),
        new x509.Extension('2.5.29.20', false, asn1js.Integer.fromBigInt(this.crlNumber).toBER(false)),
      ],
      entries: rows.map((r) => ({
        serialNumber: r.serial,
        revocationDate: new Date(r.revoked_at!),
        reason: (r.revocation_reason ?? 0) as x509.X509CrlReason,
      })),
    });
    const der = new Uint8Array(crl.rawData);
    this.crlCache = { der, until: now + 3600_000 };
    return der;
  }
}
