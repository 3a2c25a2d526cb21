/**
 * Revocation of one certificate on a path from CRLs given as input: RFC 5280 §6.3.3, with
 * distribution points and issuing distribution points (§4.2.1.13, §5.2.5), indirect CRLs
 * (certificateIssuer, §5.3.3), reason partitions (onlySomeReasons) and delta CRLs (§5.2.4).
 * The CRL issuer's own certificate is path-validated by the caller's `validateCrlIssuer`.
 */
import { type CertificateInfo, describeName } from './certificate';
import {
  type Asn1Node,
  bytesEqual,
  parseDer,
  readBitStringBytes,
  readBoolean,
  readInteger,
  readOctets,
  readOid,
  readTime,
  toHex,
} from './der';
import {
  type DistributionPoint,
  type GeneralName,
  X509,
  appendRdn,
  authorityKeyIdentifierOf,
  basicConstraintsOf,
  bitSet,
  distributionPointsOf,
  generalNamesMatch,
  readDistributionPointName,
  readGeneralNames,
  retagBitString,
} from './x509-ext';

/** CRLReason (RFC 5280 §5.3.1). */
export const CRL_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'unused',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
] as const;
const REMOVE_FROM_CRL = 8;
/** ReasonFlags bits 1..8 (§4.2.1.13); bit 0 is unused. The set of all reasons. */
const ALL_REASONS = [1, 2, 3, 4, 5, 6, 7, 8];

export interface CrlEntry {
  serialHex: string;
  revocationDate: Date;
  reason?: number;
  /** The certificate issuer this entry belongs to (indirect CRLs, §5.3.3). */
  certificateIssuer?: GeneralName[];
  unknownCritical: boolean;
}

export interface IssuingDistributionPoint {
  fullName?: GeneralName[];
  relativeName?: Uint8Array;
  onlyContainsUserCerts: boolean;
  onlyContainsCACerts: boolean;
  onlySomeReasons?: Set<number>;
  indirectCRL: boolean;
  onlyContainsAttributeCerts: boolean;
}

export interface ParsedCrl {
  der: Uint8Array;
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
  entries: CrlEntry[];
  crlNumber?: bigint;
  /** BaseCRLNumber of a delta CRL (deltaCRLIndicator, §5.2.4). */
  deltaBase?: bigint;
  idp?: IssuingDistributionPoint;
  authorityKeyId?: Uint8Array;
  /** OIDs of critical CRL extensions this code does not process. */
  unknownCritical: string[];
  tbs: Uint8Array;
  sigAlg: Asn1Node;
  signature: Uint8Array;
}

const KNOWN_CRL_EXTENSIONS = new Set<string>([
  X509.authorityKeyIdentifier,
  X509.issuerAltName,
  X509.cRLNumber,
  X509.deltaCRLIndicator,
  X509.issuingDistributionPoint,
  X509.freshestCRL,
]);
const KNOWN_ENTRY_EXTENSIONS = new Set<string>([
  X509.reasonCode,
  X509.holdInstructionCode,
  X509.invalidityDate,
  X509.certificateIssuer,
]);

/** Parses a DER CRL (RFC 5280 §5.1); undefined when it cannot be read. */
export function parseCrl(der: Uint8Array): ParsedCrl | undefined {
  try {
    const crl = parseDer(der, { maxNodes: 2_000_000, allowTrailing: true });
    const tbs = crl.child(0);
    let i = 0;
    if (tbs.child(0).tag === 0x02) i++; // version
    i++; // signature algorithm
    const issuer = tbs.child(i++).raw;
    const thisUpdate = readTime(tbs.child(i++));
    let nextUpdate: Date | undefined;
    const maybeNext = tbs.children[i];
    if (maybeNext && (maybeNext.tag === 0x17 || maybeNext.tag === 0x18)) {
      nextUpdate = readTime(maybeNext);
      i++;
    }
    const out: ParsedCrl = {
      der,
      issuer,
      thisUpdate,
      nextUpdate,
      entries: [],
      unknownCritical: [],
      tbs: tbs.raw,
      sigAlg: crl.child(1),
      signature: readBitStringBytes(crl.child(2)),
    };
    const list = tbs.children[i];
    if (list && list.tag === 0x30) {
      // certificateIssuer carries forward to the following entries (§5.3.3)
      let currentIssuer: GeneralName[] | undefined;
      for (const entry of list.children) {
        const e: CrlEntry = {
          serialHex: toHex(entry.child(0).content),
          revocationDate: readTime(entry.child(1)),
          unknownCritical: false,
        };
        for (const ext of entry.children[2]?.children ?? []) {
          const { oid, critical, value } = readExtension(ext);
          if (oid === X509.reasonCode) e.reason = value.content[0];
          else if (oid === X509.certificateIssuer) currentIssuer = readGeneralNames(value);
          else if (critical && !KNOWN_ENTRY_EXTENSIONS.has(oid)) e.unknownCritical = true;
        }
        e.certificateIssuer = currentIssuer;
        out.entries.push(e);
      }
      i++;
    }
    const exts = tbs.children.find((c) => c.isContext(0));
    for (const ext of exts?.child(0).children ?? []) {
      const { oid, critical, value } = readExtension(ext);
      if (oid === X509.cRLNumber) out.crlNumber = readInteger(value);
      else if (oid === X509.deltaCRLIndicator) out.deltaBase = readInteger(value);
      else if (oid === X509.issuingDistributionPoint) out.idp = readIdp(value);
      else if (oid === X509.authorityKeyIdentifier)
        out.authorityKeyId = authorityKeyIdentifierOf(ext.children[ext.children.length - 1]!.content);
      if (critical && !KNOWN_CRL_EXTENSIONS.has(oid)) out.unknownCritical.push(oid);
    }
    return out;
  } catch {
    return undefined;
  }
}

function readExtension(ext: Asn1Node): { oid: string; critical: boolean; value: Asn1Node } {
  const oid = readOid(ext.child(0));
  const critical = ext.child(1).tag === 0x01 ? readBoolean(ext.child(1)) : false;
  const value = parseDer(readOctets(ext.children[ext.children.length - 1]!), { maxDepth: 16 });
  return { oid, critical, value };
}

function readIdp(n: Asn1Node): IssuingDistributionPoint {
  const idp: IssuingDistributionPoint = {
    onlyContainsUserCerts: false,
    onlyContainsCACerts: false,
    indirectCRL: false,
    onlyContainsAttributeCerts: false,
  };
  for (const f of n.children) {
    if (f.isContext(0)) readDistributionPointName(f.child(0), idp);
    else if (f.isContext(1)) idp.onlyContainsUserCerts = f.content[0] !== 0;
    else if (f.isContext(2)) idp.onlyContainsCACerts = f.content[0] !== 0;
    else if (f.isContext(3)) idp.onlySomeReasons = bitSet(retagBitString(f));
    else if (f.isContext(4)) idp.indirectCRL = f.content[0] !== 0;
    else if (f.isContext(5)) idp.onlyContainsAttributeCerts = f.content[0] !== 0;
  }
  return idp;
}

export type RevocationStatus =
  | { status: 'good'; reasons: string[] }
  | { status: 'revoked'; reasons: string[]; date: Date; reason: string }
  | { status: 'unknown'; reasons: string[]; unusable: string[] };

export interface CrlSignerCheck {
  ok: boolean;
  /** The CRL issuer's own certificate is revoked (which revokes what it vouches for). */
  revoked?: boolean;
  reason?: string;
}

export interface RevocationInput {
  cert: CertificateInfo;
  /** The certificate (or trust anchor) that issued `cert`. */
  issuer: CertificateInfo;
  crls: ParsedCrl[];
  time: Date;
  /** Whether the CRL's signature verifies with the key of a CRL issuer whose own path is valid. */
  crlSignedByValidIssuer(crl: ParsedCrl): Promise<CrlSignerCheck>;
  namesEqual(a: Uint8Array, b: Uint8Array): boolean;
}

/**
 * RFC 5280 §6.3.3: the revocation status of `cert` from the CRLs, combining distribution points
 * until all reasons are covered; 'unknown' when they cannot all be covered.
 */
export async function crlStatus(input: RevocationInput): Promise<RevocationStatus> {
  const { cert, issuer, time } = input;
  const reasons: string[] = [];
  /** CRLs in scope that had to be set aside (stale, unverifiable, unknown critical extensions). */
  const unusable: string[] = [];
  const who = describeName(cert.subject);
  // No cRLDistributionPoints: one implied point whose CRL issuer is the certificate issuer.
  const points: DistributionPoint[] = distributionPointsOf(cert) ?? [{}];
  const isCa = basicConstraintsOf(cert)?.cA === true;
  const reasonsMask = new Set<number>();
  const complete = input.crls.filter((c) => c.deltaBase === undefined);
  const deltas = input.crls.filter((c) => c.deltaBase !== undefined);

  for (const dp of points) {
    for (const crl of complete) {
      if (ALL_REASONS.every((r) => reasonsMask.has(r))) break;
      // (b)(1) the CRL issuer: cRLIssuer of the point (indirect CRL), else the certificate's issuer
      if (dp.cRLIssuer) {
        if (!crl.idp?.indirectCRL) continue;
        if (!dp.cRLIssuer.some((g) => g.kind === 'directoryName' && input.namesEqual(g.name, crl.issuer)))
          continue;
      } else if (!input.namesEqual(crl.issuer, cert.issuer)) {
        continue;
      }
      // (b)(2) the scope of the CRL covers this certificate
      const scope = scopeProblem(crl, dp, cert, isCa);
      if (scope) {
        reasons.push(`CRL from "${describeName(crl.issuer)}" does not cover "${who}": ${scope}`);
        continue;
      }
      // (c)-(d) reasons this CRL adds
      const interim = ALL_REASONS.filter(
        (r) =>
          (!crl.idp?.onlySomeReasons || crl.idp.onlySomeReasons.has(r)) && (!dp.reasons || dp.reasons.has(r)),
      );
      if (!interim.some((r) => !reasonsMask.has(r))) continue;
      // (a) update check
      if (crl.nextUpdate && crl.nextUpdate < time) {
        unusable.push(
          `the CRL from "${describeName(crl.issuer)}" is out of date (nextUpdate ${crl.nextUpdate.toISOString()}, validation time ${time.toISOString()})`,
        );
        continue;
      }
      if (crl.unknownCritical.length) {
        unusable.push(
          `the CRL from "${describeName(crl.issuer)}" has unrecognised critical extensions (${crl.unknownCritical.join(', ')})`,
        );
        continue;
      }
      // (f)-(g) the CRL issuer's key, path-validated, and the CRL's signature
      const signed = await input.crlSignedByValidIssuer(crl);
      if (signed.revoked)
        return {
          status: 'revoked',
          date: time,
          reason: 'CRL issuer revoked',
          reasons: [signed.reason ?? 'the CRL issuer is revoked'],
        };
      if (!signed.ok) {
        unusable.push(signed.reason ?? `the CRL from "${describeName(crl.issuer)}" cannot be verified`);
        continue;
      }
      // (c) of §6.3.3 with deltas: a delta CRL for this complete CRL, of the same issuer and scope
      let delta: ParsedCrl | undefined;
      for (const d of deltas) {
        if (!input.namesEqual(d.issuer, crl.issuer) || !sameScope(d, crl)) continue;
        if (crl.crlNumber === undefined || d.deltaBase! > crl.crlNumber) continue;
        if (d.crlNumber !== undefined && d.crlNumber <= crl.crlNumber) continue;
        if (crl.authorityKeyId && d.authorityKeyId && !bytesEqual(crl.authorityKeyId, d.authorityKeyId))
          continue;
        if (d.unknownCritical.length) continue;
        if (!(await input.crlSignedByValidIssuer(d)).ok) continue;
        if (!delta || (d.crlNumber ?? 0n) > (delta.crlNumber ?? 0n)) delta = d;
      }
      if (delta?.nextUpdate && delta.nextUpdate < time) {
        unusable.push(
          `the delta CRL from "${describeName(delta.issuer)}" is out of date (nextUpdate ${delta.nextUpdate.toISOString()})`,
        );
        continue;
      }
      // (h)-(i) the certificate on the delta, then on the complete CRL
      for (const source of delta ? [delta, crl] : [crl]) {
        const entry = entryFor(source, cert, input.namesEqual);
        if (!entry) continue;
        if (entry.unknownCritical) {
          unusable.push(`the CRL entry for "${who}" has an unrecognised critical extension`);
          return { status: 'unknown', reasons: [...reasons, ...unusable], unusable };
        }
        if (entry.reason === REMOVE_FROM_CRL) break; // (k): unrevoked by the delta
        if (entry.revocationDate > time) break; // revoked after the validation time
        const reason = CRL_REASONS[entry.reason ?? 0] ?? 'unspecified';
        return {
          status: 'revoked',
          date: entry.revocationDate,
          reason,
          reasons: [`certificate "${who}" was revoked on ${entry.revocationDate.toISOString()} (${reason})`],
        };
      }
      for (const r of interim) reasonsMask.add(r);
    }
  }
  if (ALL_REASONS.every((r) => reasonsMask.has(r))) return { status: 'good', reasons: [] };
  reasons.push(
    ...unusable,
    `no CRL covering "${who}" (issued by "${describeName(issuer.subject)}") could be used`,
  );
  return { status: 'unknown', reasons, unusable };
}

/** RFC 5280 §6.3.3 (b)(2): why this CRL's scope does not include the certificate, or undefined. */
function scopeProblem(
  crl: ParsedCrl,
  dp: DistributionPoint,
  cert: CertificateInfo,
  isCa: boolean,
): string | undefined {
  const idp = crl.idp;
  if (!idp) return undefined;
  const idpNames = pointNames(idp, crl.issuer);
  if (idpNames) {
    let dpNames = pointNames(dp, dp.cRLIssuer?.find((g) => g.kind === 'directoryName')?.name ?? cert.issuer);
    // a point with only cRLIssuer: its names are the CRL issuer's names (§6.3.3 (b)(2)(i))
    if (!dpNames && dp.cRLIssuer) dpNames = dp.cRLIssuer;
    // a partitioned CRL (its IDP names a point) covers only certificates that name that point
    if (!dpNames) return 'the CRL is for a distribution point the certificate does not name';
    if (!idpNames.some((a) => dpNames!.some((b) => generalNamesMatch(a, b))))
      return 'the distribution point names differ';
  }
  if (idp.onlyContainsUserCerts && isCa) return 'it only lists end-entity certificates';
  if (idp.onlyContainsCACerts && !isCa) return 'it only lists CA certificates';
  if (idp.onlyContainsAttributeCerts) return 'it only lists attribute certificates';
  return undefined;
}

/** A point's names: its fullName, or its relative name appended to `base`. */
function pointNames(
  p: { fullName?: GeneralName[]; relativeName?: Uint8Array },
  base: Uint8Array,
): GeneralName[] | undefined {
  if (p.fullName) return p.fullName;
  if (p.relativeName) return [{ kind: 'directoryName', name: appendRdn(base, p.relativeName) }];
  return undefined;
}

function sameScope(a: ParsedCrl, b: ParsedCrl): boolean {
  if (!a.idp && !b.idp) return true;
  if (!a.idp || !b.idp) return false;
  const an = pointNames(a.idp, a.issuer);
  const bn = pointNames(b.idp, b.issuer);
  if (!!an !== !!bn) return false;
  if (an && bn && !an.some((x) => bn.some((y) => generalNamesMatch(x, y)))) return false;
  return (
    a.idp.onlyContainsUserCerts === b.idp.onlyContainsUserCerts &&
    a.idp.onlyContainsCACerts === b.idp.onlyContainsCACerts &&
    a.idp.indirectCRL === b.idp.indirectCRL
  );
}

/** The entry of `crl` for the certificate: same serial, and (indirect CRLs) the same issuer. */
function entryFor(
  crl: ParsedCrl,
  cert: CertificateInfo,
  namesEqual: (a: Uint8Array, b: Uint8Array) => boolean,
): CrlEntry | undefined {
  for (const e of crl.entries) {
    if (e.serialHex !== cert.serialNumberHex) continue;
    const entryIssuer = e.certificateIssuer?.find((g) => g.kind === 'directoryName');
    const issuer = entryIssuer && entryIssuer.kind === 'directoryName' ? entryIssuer.name : crl.issuer;
    if (namesEqual(issuer, cert.issuer)) return e;
  }
  return undefined;
}
