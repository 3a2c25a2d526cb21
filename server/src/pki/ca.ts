/** The enrolment CA: issues citizens' certificates from PKCS#10 requests and publishes the CRL. */
import * as asn1js from 'asn1js';
import type { Citizen, Department } from '../auth';
import type { AuditLog } from '../audit';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/index';
import type { CrlsTable, Database } from '../db/schema';
import { badRequest, notFound, unprocessable } from '../errors';
import { sm2Verify } from '../../../packages/core/src/gm/sm2';
import { parseDer, readOid } from '../../../packages/core/src/pki/der';
import { OID } from '../../../packages/core/src/pki/oids';
import { issueCertificate, type Credential, type ServerPki } from './dev-pki';
import { ECDSA_SHA256, fromPem, isSm2Key, randomSerial, SM2_SM3, toPem, x509 } from './x509';

/** The server's certification authorities: the P-256 one and the 国密 (SM2) one. */
export type CaKind = 'p256' | 'sm2';

/** The SM2 public point of an SPKI on the SM2 curve (id-ecPublicKey + 1.2.156.10197.1.301, GM/T 0015), else undefined. */
function sm2Point(spki: Uint8Array): Uint8Array | undefined {
  try {
    const n = parseDer(spki);
    const alg = n.child(0);
    if (readOid(alg.child(0)) !== OID.ecPublicKey || alg.children[1]?.tag !== 0x06) return undefined;
    if (readOid(alg.child(1)) !== OID.sm2Curve) return undefined;
    return n.child(1).content.subarray(1); // BIT STRING: unused-bits byte, then the point
  } catch {
    return undefined;
  }
}

const YEAR = 365 * 24 * 3600 * 1000;

export interface EnrolResult {
  serialNumber: string;
  certificate: string; // PEM
  chain: string[]; // PEM, issuers
}

export class EnrolmentCa {
  /** The last CRL of each CA read from the database, parsed (a CRL is read on every verification). */
  private readonly memo: Partial<Record<CaKind, CurrentCrl>> = {};

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

  /** The CA that signs for `kind`; the SM2 one only when the PKI has it. */
  private caFor(kind: CaKind): Credential | undefined {
    return kind === 'sm2' ? this.pki.sm2?.ca : this.pki.ca;
  }

  /**
   * Proof of possession of an SM2 key (RFC 2986 §3, GM/T 0015): the request is signed with
   * SM2-with-SM3 and verifies over Z with the default identifier 1234567812345678 (GM/T 0009 §10),
   * the identifier Sidian's certificates and CMS use.
   */
  private checkSm2Pop(csr: x509.Pkcs10CertificateRequest, point: Uint8Array): void {
    let ok = false;
    try {
      // CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
      const n = parseDer(new Uint8Array(csr.rawData));
      ok =
        readOid(n.child(1).child(0)) === OID.sm2WithSm3 &&
        sm2Verify(point, n.child(0).raw, n.child(2).content.subarray(1));
    } catch {
      ok = false;
    }
    if (!ok)
      throw unprocessable(
        'the SM2 CSR signature does not verify with its public key over SM2-with-SM3 and the default ID 1234567812345678 ' +
          '(no proof of possession; with OpenSSL: openssl req -new -sm3 -sigopt distid:1234567812345678) / ' +
          'SM2 证书请求的签名无法用其公钥验证',
        'CSR_POP_FAILED',
      );
  }

  /**
   * Issues a certificate for the CSR's key. A citizen's names the person (from the portal token);
   * a department's (its API key) is a seal certificate naming the department: O and CN its name,
   * organizationIdentifier its credit code (GB/T 38540 seal certificates name the organisation).
   * The names come from the caller's credentials, never from the CSR (RFC 2986 §3: the CA decides).
   */
  async enrol(csrInput: Uint8Array | string, who: Citizen | Department): Promise<EnrolResult> {
    const csr = this.parseCsr(csrInput);
    const point = sm2Point(new Uint8Array(csr.publicKey.rawData));
    const kind: CaKind = point ? 'sm2' : 'p256';
    const issuer = this.caFor(kind);
    if (point) {
      if (!issuer)
        throw unprocessable(
          'this server has no SM2 CA: configure SIDIAN_CA_SM2_* (docs/production.md) / 本服务器未配置 SM2 CA',
          'CSR_KEY_UNSUPPORTED',
        );
      this.checkSm2Pop(csr, point);
    } else {
      const alg = csr.publicKey.algorithm as EcKeyAlgorithm & RsaHashedKeyAlgorithm;
      const ok =
        (alg.name === 'ECDSA' && ['P-256', 'P-384'].includes(alg.namedCurve)) ||
        ((alg.name === 'RSASSA-PKCS1-v1_5' || alg.name === 'RSA-PSS') && (alg.modulusLength ?? 0) >= 2048);
      if (!ok)
        throw unprocessable(
          'the key must be ECDSA P-256/P-384, SM2 or RSA of at least 2048 bits',
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
    }

    const serial = randomSerial();
    const subject: x509.JsonName =
      who.kind === 'department'
        ? [
            { '2.5.4.6': ['CN'] },
            { '2.5.4.97': [who.creditCode] },
            { '2.5.4.10': [who.name] },
            { '2.5.4.3': [who.name] },
          ]
        : [
            { '2.5.4.6': ['CN'] },
            { '2.5.4.5': [who.id.replace(/^citizen:/, '')] },
            { '2.5.4.3': [who.name] },
          ];
    const base = this.o.publicUrl?.replace(/\/+$/, '');
    const cert = await issueCertificate(issuer!, {
      subject,
      publicKey: csr.publicKey,
      profile: 'signer',
      validityMs: this.o.validityMs ?? YEAR,
      serialNumber: serial,
      // each CA publishes its own CRL (RFC 5280 §4.2.1.13)
      crlUrl: base ? `${base}/api/crl${kind === 'sm2' ? '/sm2' : ''}` : undefined,
      // RFC 5280 §4.2.2.1: where to ask the OCSP responder, only when the server knows its public URL
      ocspUrl: this.o.publicUrl ? `${this.o.publicUrl.replace(/\/+$/, '')}/api/ocsp` : undefined,
    });
    const der = new Uint8Array(cert.rawData);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('certificates')
        .values({
          serial,
          kind: who.kind === 'department' ? 'seal' : 'citizen',
          subject: cert.subject,
          subject_hash: who.id,
          issued_at: new Date().toISOString(),
          not_after: cert.notAfter.toISOString(),
          der: Buffer.from(der).toString('base64'),
          revoked_at: null,
          revocation_reason: null,
          issuer_ca: kind === 'sm2' ? 'sm2' : null,
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
      chain: [toPem(issuer!.der, 'CERTIFICATE')],
    };
  }

  /**
   * Revokes a certificate this CA issued. The revocation and the bump of the CRL number happen in one
   * transaction, so every instance on the same database sees the new CRL number together with the
   * entry it adds (and caches keyed by the number miss at once).
   */
  async revoke(serial: string, reason: number, actor: string, owner?: string): Promise<RevocationInfo> {
    const s = normaliseSerial(serial);
    if (!s) throw badRequest('serial must be hex', 'SERIAL_INVALID');
    checkReason(reason);
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('certificates')
        .select(['serial', 'revoked_at', 'revocation_reason', 'subject_hash'])
        .where('serial', '=', s)
        .executeTakeFirst();
      if (!row || (owner && row.subject_hash !== owner)) throw notFound('no such certificate');
      if (row.revoked_at) return { serial: s, revokedAt: row.revoked_at, reason: row.revocation_reason ?? 0 };
      const revokedAt = new Date().toISOString();
      await trx
        .updateTable('certificates')
        .set({ revoked_at: revokedAt, revocation_reason: reason })
        .where('serial', '=', s)
        .execute();
      await bumpCrlNumber(trx);
      await this.audit.append(trx, { actor, action: 'certificate.revoke', subject: `certificate:${s}` });
      return { serial: s, revokedAt, reason };
    });
  }

  /**
   * The status of a certificate by serial, as the OCSP responder answers it (RFC 6960 §2.2):
   * `unknown` for serials this CA never issued.
   */
  async status(serialHex: string, kind: CaKind = 'p256'): Promise<CertificateStatus> {
    const s = normaliseSerial(serialHex);
    if (!s) return { status: 'unknown' };
    const row = await this.db
      .selectFrom('certificates')
      .select(['revoked_at', 'revocation_reason', 'issuer_ca'])
      .where('serial', '=', s)
      .executeTakeFirst();
    if (!row) {
      // the server's own seal and TSA certificates are issued by the CA but not enrolled
      const own = (kind === 'sm2' ? [this.pki.sm2?.tsa?.cert] : [this.pki.seal.cert, this.pki.tsa.cert])
        .map((c) => c && normaliseSerial(c.serialNumber))
        .filter(Boolean);
      return own.includes(s) ? { status: 'good' } : { status: 'unknown' };
    }
    // a serial of the other CA is not this CA's to answer for (RFC 6960 §2.2: unknown)
    if ((row.issuer_ca === 'sm2' ? 'sm2' : 'p256') !== kind) return { status: 'unknown' };
    if (!row.revoked_at) return { status: 'good' };
    return {
      status: 'revoked',
      revokedAt: new Date(row.revoked_at),
      reason: crlReason(row.revocation_reason) ?? 0,
    };
  }

  /**
   * The current CRL: the one stored under the number the 'crl-number' counter holds, made when
   * missing (after a revocation) or when less than half of its validity remains. One query when the
   * stored CRL is current, so verifications can ask for it every time.
   */
  async currentCrl(kind: CaKind = 'p256'): Promise<CurrentCrl> {
    const row = await this.db
      .selectFrom(CRL_TABLE[kind])
      .selectAll()
      .where('number', '=', (eb) => eb.selectFrom('counters').select('value').where('name', '=', CRL_NUMBER))
      .executeTakeFirst();
    if (row && Date.parse(row.next_update) - Date.now() > CRL_VALIDITY_MS / 2) return this.fromRow(kind, row);
    return this.issueCrl(kind);
  }

  /**
   * The current CRL of every CA the server has (the P-256 one first): what `/api/trust` serves and
   * verifications check against. Both carry the same CRL number (one counter), so caches keyed by
   * the P-256 CRL's number see revocations through either CA.
   */
  async currentCrls(): Promise<CurrentCrl[]> {
    const out = [await this.currentCrl('p256')];
    if (this.pki.sm2?.ca) out.push(await this.currentCrl('sm2'));
    return out;
  }

  private fromRow(kind: CaKind, row: CrlsTable): CurrentCrl {
    const number = BigInt(row.number);
    if (this.memo[kind]?.number === number) return this.memo[kind];
    const der = new Uint8Array(Buffer.from(row.der, 'base64'));
    const crl: CurrentCrl = {
      number,
      der,
      pem: toPem(der, 'X509 CRL'),
      thisUpdate: new Date(row.this_update),
      nextUpdate: new Date(row.next_update),
    };
    this.memo[kind] = crl;
    return crl;
  }

  /**
   * Signs a CRL under the current number (or, when that number already has a CRL that is getting
   * old, under the next one: two CRLs never share a number, RFC 5280 §5.2.3). The counter row is
   * written first, which locks it (PostgreSQL row lock, SQLite write lock) until commit: a
   * revocation, which bumps the same row, either committed before (its entry is read here) or waits
   * and gets the next number.
   */
  private async issueCrl(kind: CaKind): Promise<CurrentCrl> {
    const ca = this.caFor(kind);
    if (!ca) throw notFound('this server has no SM2 CA');
    const table = CRL_TABLE[kind];
    const row = await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('counters')
        .values({ name: CRL_NUMBER, value: 1 })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const locked = await trx
        .updateTable('counters')
        .set({ value: sql`value` as never })
        .where('name', '=', CRL_NUMBER)
        .returning('value')
        .executeTakeFirstOrThrow();
      let number = BigInt(locked.value);
      const existing = await trx
        .selectFrom(table)
        .selectAll()
        .where('number', '=', String(number))
        .executeTakeFirst();
      const now = Date.now();
      if (existing) {
        if (Date.parse(existing.next_update) - now > CRL_VALIDITY_MS / 2) return existing; // another instance made it
        number = await bumpCrlNumber(trx);
      }
      // RFC 5280 §5: a CRL lists the certificates of its own issuer
      const rows = await trx
        .selectFrom('certificates')
        .select(['serial', 'revoked_at', 'revocation_reason'])
        .where('revoked_at', 'is not', null)
        .where((eb) => (kind === 'sm2' ? eb('issuer_ca', '=', 'sm2') : eb('issuer_ca', 'is', null)))
        .orderBy('serial')
        .execute();
      const thisUpdate = new Date(Math.floor(now / 1000) * 1000 - 60_000);
      const nextUpdate = new Date(thisUpdate.getTime() + CRL_VALIDITY_MS);
      const crl = await x509.X509CrlGenerator.create({
        issuer: ca.cert.subjectName,
        thisUpdate,
        nextUpdate,
        signingKey: ca.key,
        // the SM2 CA signs its CRL with SM2-with-SM3 (GM/T 0015 §7.1, the default ID as for certificates)
        signingAlgorithm: isSm2Key(ca.key) ? SM2_SM3 : ECDSA_SHA256,
        extensions: [
          await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
          // cRLNumber (RFC 5280 §5.2.3): monotonically increasing, shared by every instance
          new x509.Extension('2.5.29.20', false, asn1js.Integer.fromBigInt(number).toBER(false)),
        ],
        entries: rows.map((r) => ({
          serialNumber: r.serial,
          revocationDate: new Date(r.revoked_at!),
          reason: crlReason(r.revocation_reason),
        })),
      });
      const made: CrlsTable = {
        number: String(number),
        this_update: thisUpdate.toISOString(),
        next_update: nextUpdate.toISOString(),
        der: Buffer.from(crl.rawData).toString('base64'),
      };
      await trx
        .insertInto(table)
        .values(made)
        .onConflict((oc) => oc.column('number').doNothing())
        .execute();
      return made;
    });
    return this.fromRow(kind, row);
  }
}

const CRL_NUMBER = 'crl-number';
const CRL_TABLE = { p256: 'crls', sm2: 'crls_sm2' } as const;
/** A CRL is valid for a day and replaced (under a new number) once half of that has passed. */
const CRL_VALIDITY_MS = 24 * 3600_000;

export interface CurrentCrl {
  /** cRLNumber: strictly increasing; changes with every revocation. */
  number: bigint;
  der: Uint8Array;
  pem: string;
  thisUpdate: Date;
  nextUpdate: Date;
}

export interface RevocationInfo {
  serial: string;
  revokedAt: string;
  reason: number;
}

export type CertificateStatus =
  { status: 'good' | 'unknown' } | { status: 'revoked'; revokedAt: Date; reason: number };

/** Lower-case hex without leading zero bytes (as INTEGER content might carry them), or undefined. */
export function normaliseSerial(serial: string): string | undefined {
  const s = serial.trim().toLowerCase();
  if (!/^[0-9a-f]{1,128}$/.test(s)) return undefined;
  const t = s.replace(/^(00)+/, '');
  return t === '' ? '00' : t;
}

/**
 * The reasonCode entry extension for a stored reason: absent for unspecified (0), as RFC 5280
 * §5.3.1 asks, and for removeFromCRL (8), which a full CRL may not carry (rows that older versions
 * stored with 8 stay revoked: nothing here ever un-revokes).
 */
export function crlReason(stored: number | null): x509.X509CrlReason | undefined {
  return stored && stored !== 8 ? (stored as x509.X509CrlReason) : undefined;
}

/** CRLReason codes (RFC 5280 §5.3.1) a full CRL may carry. */
function checkReason(reason: number) {
  if (reason === 8)
    throw unprocessable(
      'reason removeFromCRL (8) is only for delta CRLs (RFC 5280 §5.3.1); this CA publishes full CRLs and never un-revokes',
      'REVOCATION_REASON_REFUSED',
    );
  if (!Number.isInteger(reason) || reason < 0 || reason > 10 || reason === 7)
    throw badRequest('reason must be an RFC 5280 CRLReason code (0-6, 9, 10)', 'REVOCATION_REASON_INVALID');
}

/** Adds one to the CRL number inside the caller's transaction; returns the new number. */
async function bumpCrlNumber(trx: Transaction<Database>): Promise<bigint> {
  await trx
    .insertInto('counters')
    .values({ name: CRL_NUMBER, value: 0 })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await trx
    .updateTable('counters')
    .set({ value: sql`value + 1` as never })
    .where('name', '=', CRL_NUMBER)
    .returning('value')
    .executeTakeFirstOrThrow();
  return BigInt(row.value);
}
