/**
 * Certification path validation, RFC 5280 §6.1, for signers, time-stamp authorities and CRL
 * issuers. Two parts kept apart (as Go's crypto/x509 does): building candidate paths from the
 * target to a trust anchor by names alone (`buildCandidatePaths`), then checking one path step by
 * step with the state the RFC names (`checkPath`). Revocation from CRLs given as input follows
 * §6.3 (path-crl.ts); each CRL issuer is itself path-validated here.
 * Certificate policies (§6.1.3 (d)-(f), §6.1.4 (a)-(b), (h)-(j), §6.1.5) are processed in
 * path-policy.ts with user-initial-policy-set {anyPolicy} and no initial inhibits.
 */
import { type CertificateInfo, describeName, nameAttributes, parseCertificate } from './certificate';
import { bytesEqual, toHex } from './der';
import { pemToDer } from './pem';
import {
  type PolicyState,
  PolicyError,
  initialPolicyState,
  preparePolicies,
  processPolicies,
  wrapUpPolicies,
} from './path-policy';
import { type CrlSignerCheck, type ParsedCrl, crlStatus, parseCrl } from './path-crl';
import {
  type GeneralName,
  KEY_USAGE,
  type NameConstraints,
  type WorkingPublicKey,
  X509,
  authorityKeyIdentifierOf,
  basicConstraintsOf,
  extKeyUsageOf,
  keyIdentifierOf,
  keyUsageOf,
  nameConstraintsOf,
  nameRdns,
  namesEqual,
  isEmptyName,
  signedParts,
  subjectAltNamesOf,
  verifyWithWorkingKey,
  workingKeyOf,
} from './x509-ext';

/** What the target certificate is used for; decides the checks of §6.1.5 on it. */
export type PathPurpose = 'signer' | 'tsa' | 'crl-issuer' | 'any';

export interface ValidatePathOptions {
  /** The certificate to validate (DER or PEM). */
  target: Uint8Array | string;
  /** Certificates that may be on the path (DER or PEM), in any order; extra ones are ignored. */
  intermediates?: (Uint8Array | string)[];
  /** Trust anchors (DER or PEM certificates): their names and keys start every path (§6.1.1 (d)). */
  trustAnchors: (Uint8Array | string)[];
  /** CRLs (DER or PEM), complete and delta, used for revocation (§6.3). */
  crls?: (Uint8Array | string)[];
  /** The validation time (default now). */
  time?: Date;
  purpose?: PathPurpose;
  /**
   * 'require': a certificate on the path for which no CRL can be used makes the path invalid
   * (as PKITS expects); 'if-available' (default): CRLs are used when given and usable.
   */
  revocation?: 'require' | 'if-available';
  /**
   * Revocation evidence besides `crls` (long-term validation, verify/long-term.ts: a DSS, OCSP
   * responses, revocation data inside a CMS), asked about each certificate on a path after the
   * structural checks, at the validation time, before the CRLs above. 'revoked' fails the path;
   * 'unknown' with `required` fails it as 'revocation-unknown' (a certificate that has expired
   * by the time of the verification needs evidence from before its expiry, EN 319 102-1 §5.6.2.1).
   */
  revocationEvidence?: RevocationEvidenceCheck;
}

export type RevocationEvidenceCheck = (
  cert: CertificateInfo,
  issuer: CertificateInfo,
  time: Date,
) => Promise<{ status: 'good' | 'revoked' | 'unknown'; reasons: string[]; required?: boolean }>;

/** Which check failed; lets callers map a failure to their own verdicts (expired, revoked, ...). */
export type PathProblem =
  | 'malformed'
  | 'no-path'
  | 'signature'
  | 'validity'
  | 'name-chaining'
  | 'basic-constraints'
  | 'path-length'
  | 'key-usage'
  | 'extended-key-usage'
  | 'critical-extension'
  | 'name-constraints'
  | 'policy'
  | 'revoked'
  | 'revocation-unknown';

export interface PathValidationResult {
  valid: boolean;
  status: 'valid' | 'invalid' | 'revoked';
  problem?: PathProblem;
  reasons: string[];
  /** The path checked (or the longest built), target first, the trust anchor last when reached (DER). */
  path: Uint8Array[];
  /** With revocation 'if-available': CRLs that were given for a certificate on the path but could not be used. */
  warnings?: string[];
}

/**
 * Longest path, most candidate paths, and most steps of the search, so that a hostile pool (many
 * certificates with the same names, issuing each other) cannot make path building explode.
 */
const MAX_PATH_CERTS = 10;
const MAX_CANDIDATES = 16;
const MAX_BUILD_STEPS = 2000;
/** CRL issuers whose own paths are validated within one validation (nested). */
const MAX_CRL_ISSUER_DEPTH = 4;

interface Context {
  anchors: CertificateInfo[];
  pool: CertificateInfo[];
  crls: ParsedCrl[];
  time: Date;
  revocation: 'require' | 'if-available';
  revocationEvidence?: RevocationEvidenceCheck;
  depth: number;
  /** Certificates whose revocation is being established further up (a CRL signer checking itself). */
  checking: Set<string>;
  /** CRLs set aside while revocation was optional ('if-available'): worth telling, not failing. */
  warnings: string[];
}

/** Validates the target's path to a trust anchor at the given time (RFC 5280 §6.1, §6.3). */
export async function validatePath(options: ValidatePathOptions): Promise<PathValidationResult> {
  const targetDer = derOf(options.target)[0];
  let target: CertificateInfo;
  try {
    if (!targetDer) throw new Error('no certificate');
    target = parseCertificate(targetDer);
  } catch (e) {
    return {
      valid: false,
      status: 'invalid',
      problem: 'malformed',
      reasons: [`the certificate cannot be read: ${(e as Error).message}`],
      path: [],
    };
  }
  const ctx: Context = {
    anchors: parseAll(options.trustAnchors.flatMap(derOf)),
    pool: parseAll((options.intermediates ?? []).flatMap(derOf)),
    crls: (options.crls ?? [])
      .flatMap(derOf)
      .map(parseCrl)
      .filter((c): c is ParsedCrl => !!c),
    time: options.time ?? new Date(),
    revocation: options.revocation ?? 'if-available',
    revocationEvidence: options.revocationEvidence,
    depth: 0,
    checking: new Set(),
    warnings: [],
  };
  const result = await validateIn(target, options.purpose ?? 'any', ctx);
  return { ...result, warnings: [...new Set(ctx.warnings)] };
}

async function validateIn(
  target: CertificateInfo,
  purpose: PathPurpose,
  ctx: Context,
): Promise<PathValidationResult> {
  const { candidates, longest } = buildCandidatePaths(target, ctx);
  if (candidates.length === 0) {
    return {
      valid: false,
      status: 'invalid',
      problem: 'no-path',
      reasons: [
        ctx.anchors.length === 0
          ? 'no trust anchors were given, so the certificate cannot be trusted'
          : `no path from "${describeName(target.subject)}" to a trust anchor`,
      ],
      path: longest.map((c) => c.der),
    };
  }
  // The failure reported is that of the path that got furthest: one whose only fault is
  // revocation says more than a path through the wrong key.
  let best: PathValidationResult | undefined;
  for (const candidate of candidates) {
    const result = await checkPath(candidate, purpose, ctx);
    if (result.valid) return result;
    if (!best || rank(result) > rank(best)) best = result;
  }
  return best!;
}

function safeKeyId(read: () => Uint8Array | undefined): Uint8Array | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function keyIdMatches(cert: CertificateInfo, aki: Uint8Array): boolean {
  const ski = safeKeyId(() => keyIdentifierOf(cert));
  return !!ski && bytesEqual(ski, aki);
}

/** How far a failed path got: revocation faults last, then by certificates passed; a wrong key (the wrong path) lowest. */
function rank(r: PathValidationResult & { reached?: number }): number {
  if (r.problem === 'revoked') return 10_000;
  if (r.problem === 'revocation-unknown') return 9_999;
  return r.problem === 'signature' ? 0 : (r.reached ?? 0) * 10;
}

// ---------------------------------------------------------------------------------------------
// Building candidate paths (by names; nothing here is trusted until checkPath says so)

export interface CandidatePath {
  /** Target first; the last one was issued by the anchor (or is the anchor itself). */
  certs: CertificateInfo[];
  anchor: CertificateInfo;
}

/**
 * Every path from the target through the pool to an anchor whose names chain (§6.1 (a)(4)),
 * without loops, at most MAX_PATH_CERTS long and MAX_CANDIDATES in number, shortest first.
 */
export function buildCandidatePaths(
  target: CertificateInfo,
  ctx: Pick<Context, 'anchors' | 'pool'>,
): { candidates: CandidatePath[]; longest: CertificateInfo[] } {
  const candidates: CandidatePath[] = [];
  let longest: CertificateInfo[] = [target];
  const selfAnchor = ctx.anchors.find((a) => bytesEqual(a.der, target.der));
  if (selfAnchor) candidates.push({ certs: [target], anchor: selfAnchor });
  let steps = 0;
  const walk = (chain: CertificateInfo[]) => {
    if (candidates.length >= MAX_CANDIDATES || ++steps > MAX_BUILD_STEPS) return;
    if (chain.length > longest.length) longest = chain;
    const cur = chain[chain.length - 1]!;
    for (const a of ctx.anchors) {
      if (namesEqual(a.subject, cur.issuer) && !bytesEqual(a.der, cur.der))
        candidates.push({ certs: chain, anchor: a });
    }
    if (chain.length >= MAX_PATH_CERTS) return;
    const issuers = ctx.pool.filter(
      (c) =>
        namesEqual(c.subject, cur.issuer) &&
        !chain.some((p) => bytesEqual(p.der, c.der)) &&
        !ctx.anchors.some((a) => bytesEqual(a.der, c.der)), // reached as an anchor above
    );
    // issuers whose key identifier is the one the certificate names first (RFC 5280 §4.2.1.1):
    // look-alikes with the same name cannot use up the search before the real issuer is tried
    const aki = safeKeyId(() =>
      authorityKeyIdentifierOf(cur.extensions.get(X509.authorityKeyIdentifier)?.value),
    );
    if (aki) issuers.sort((a, b) => Number(keyIdMatches(b, aki)) - Number(keyIdMatches(a, aki)));
    for (const c of issuers) walk([...chain, c]);
  };
  walk([target]);
  candidates.sort((a, b) => a.certs.length - b.certs.length);
  return { candidates, longest };
}

// ---------------------------------------------------------------------------------------------
// Checking one path (§6.1.2 - §6.1.5)

/** The state variables of §6.1.2, as the RFC names them (the policy ones are not kept). */
interface State {
  /** (b)-(c) permitted_subtrees and excluded_subtrees, one entry per CA that constrained names. */
  constraints: NameConstraints[];
  /** (g)-(i) working_public_key (with its algorithm and parameters). */
  workingPublicKey: WorkingPublicKey;
  /** (j) working_issuer_name */
  workingIssuerName: Uint8Array;
  /** (k) max_path_length */
  maxPathLength: number;
  /** (a), (d)-(f) valid_policy_tree, explicit_policy, inhibit_anyPolicy, policy_mapping */
  policy: PolicyState;
}

class PathFailure extends Error {
  constructor(
    readonly problem: PathProblem,
    message: string,
  ) {
    super(message);
  }
}

async function checkPath(
  candidate: CandidatePath,
  purpose: PathPurpose,
  ctx: Context,
): Promise<PathValidationResult> {
  const { anchor } = candidate;
  const anchorIsTarget = candidate.certs.length === 1 && bytesEqual(candidate.certs[0]!.der, anchor.der);
  // Processed from the anchor's side: certificate 1 was issued by the anchor, n is the target.
  const order = [...candidate.certs].reverse();
  const n = order.length;
  const path = [...candidate.certs, ...(anchorIsTarget ? [] : [anchor])].map((c) => c.der);
  const state = initialise(anchor, n);
  let reached = 0;
  try {
    // The anchor is trusted for its name and key (§6.1.1 (d)); its validity period is still
    // honoured, as OpenSSL does: a retired root must not keep vouching for new certificates.
    if (!anchorIsTarget) checkValidity(anchor, ctx.time, 'anchor');
    for (let i = 1; i <= n; i++) {
      reached = i;
      const cert = order[i - 1]!;
      const role = i === n ? 'target' : 'ca';
      if (!anchorIsTarget) {
        await checkSignature(cert, state); // §6.1.3 (a)(1)
        checkIssuerName(cert, state); // §6.1.3 (a)(4)
      }
      checkValidity(cert, ctx.time, role); // §6.1.3 (a)(2)
      checkNameConstraints(cert, state, i === n); // §6.1.3 (b)-(c)
      policyStep(() => processPolicies(cert, i, n, isSelfIssued(cert), state.policy)); // §6.1.3 (d)-(f)
      if (i < n) {
        policyStep(() => preparePolicies(cert, i, isSelfIssued(cert), state.policy)); // §6.1.4 (a)-(b), (h)-(j)
        prepareNext(cert, state); // §6.1.4
      } else {
        policyStep(() => wrapUpPolicies(cert, state.policy)); // §6.1.5 (a)-(b), (g)
        wrapUp(cert, purpose); // §6.1.5
      }
    }
    // §6.1.3 (a)(3): revocation, after the structural checks so a broken path reports why it is broken
    if (!anchorIsTarget) {
      for (let i = 1; i <= n; i++) {
        const cert = order[i - 1]!;
        await checkRevocation(cert, i === 1 ? anchor : order[i - 2]!, ctx);
      }
    }
  } catch (e) {
    if (!(e instanceof PathFailure)) throw e;
    const failed: PathValidationResult & { reached?: number } = {
      valid: false,
      status: e.problem === 'revoked' ? 'revoked' : 'invalid',
      problem: e.problem,
      reasons: [e.message],
      path,
    };
    Object.defineProperty(failed, 'reached', { value: reached, enumerable: false });
    return failed;
  }
  return { valid: true, status: 'valid', reasons: [], path };
}

/** §6.1.2: initial state from the trust anchor information. */
function initialise(anchor: CertificateInfo, n: number): State {
  return {
    constraints: [],
    workingPublicKey: workingKeyOf(anchor),
    workingIssuerName: anchor.subject,
    maxPathLength: n,
    policy: initialPolicyState(n),
  };
}

/** §6.1.3 (a)(1): the signature verifies with the working public key. */
async function checkSignature(cert: CertificateInfo, state: State): Promise<void> {
  let ok = false;
  try {
    const { tbs, sigAlg, signature } = signedParts(cert.der);
    ok = await verifyWithWorkingKey(state.workingPublicKey, sigAlg, tbs, signature);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new PathFailure(
      'signature',
      `the signature on certificate "${describeName(cert.subject)}" does not verify with its issuer's key (RFC 5280 §6.1.3 (a)(1))`,
    );
  }
}

/** §6.1.3 (a)(2): the validity period includes the validation time. */
function checkValidity(cert: CertificateInfo, time: Date, role: 'anchor' | 'ca' | 'target'): void {
  const who = `${role === 'anchor' ? 'trust anchor' : role === 'ca' ? 'issuer certificate' : 'certificate'} "${describeName(cert.subject)}"`;
  if (time < cert.notBefore)
    throw new PathFailure(
      'validity',
      `${who} is not yet valid at ${time.toISOString()} (valid from ${cert.notBefore.toISOString()})`,
    );
  if (time > cert.notAfter)
    throw new PathFailure(
      'validity',
      `${who} expired on ${cert.notAfter.toISOString()} (validation time ${time.toISOString()})`,
    );
}

/** §6.1.3 (a)(4): the issuer name is the working issuer name. */
function checkIssuerName(cert: CertificateInfo, state: State): void {
  if (!namesEqual(cert.issuer, state.workingIssuerName)) {
    throw new PathFailure(
      'name-chaining',
      `certificate "${describeName(cert.subject)}" names issuer "${describeName(cert.issuer)}", not "${describeName(state.workingIssuerName)}"`,
    );
  }
}

/** §6.1.3 (b)-(c): subject names within every permitted subtree and no excluded one (skipped for self-issued intermediates). */
function checkNameConstraints(cert: CertificateInfo, state: State, last: boolean): void {
  if (state.constraints.length === 0) return;
  if (!last && isSelfIssued(cert)) return;
  const names: GeneralName[] = [];
  if (!isEmptyName(cert.subject)) names.push({ kind: 'directoryName', name: cert.subject });
  const altNames = subjectAltNamesOf(cert);
  names.push(...altNames);
  // §4.2.1.10: without rfc822Name alternative names, emailAddress in the subject is constrained as one
  if (!altNames.some((g) => g.kind === 'rfc822Name')) {
    for (const a of nameAttributes(cert.subject))
      if (a.type === X509.emailAddress) names.push({ kind: 'rfc822Name', value: a.value });
  }
  for (const name of names) {
    for (const nc of state.constraints) {
      const permitted = nc.permitted.filter((p) => p.kind === name.kind);
      if (permitted.length && !permitted.some((p) => withinSubtree(name, p))) {
        throw new PathFailure(
          'name-constraints',
          `certificate "${describeName(cert.subject)}" has a name outside the permitted subtrees (RFC 5280 §6.1.3 (b))`,
        );
      }
      if (nc.excluded.some((x) => x.kind === name.kind && withinSubtree(name, x))) {
        throw new PathFailure(
          'name-constraints',
          `certificate "${describeName(cert.subject)}" has a name in an excluded subtree (RFC 5280 §6.1.3 (c))`,
        );
      }
    }
  }
}

/** RFC 5280 §4.2.1.10: is `name` within the subtree `base`? */
function withinSubtree(name: GeneralName, base: GeneralName): boolean {
  if (name.kind === 'directoryName' && base.kind === 'directoryName') {
    try {
      const n = nameRdns(name.name);
      const b = nameRdns(base.name);
      return b.length <= n.length && b.every((r, i) => r === n[i]);
    } catch {
      return false;
    }
  }
  if (name.kind === 'dNSName' && base.kind === 'dNSName') return hostWithin(name.value, base.value);
  if (name.kind === 'rfc822Name' && base.kind === 'rfc822Name') {
    const v = name.value.toLowerCase();
    const b = base.value.toLowerCase();
    if (b.includes('@')) return v === b;
    const host = v.slice(v.lastIndexOf('@') + 1);
    return b.startsWith('.') ? host.endsWith(b) : host === b;
  }
  if (name.kind === 'uniformResourceIdentifier' && base.kind === 'uniformResourceIdentifier') {
    const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^:/?#]+)/i.exec(name.value);
    if (!m) return false;
    const b = base.value.toLowerCase();
    return b.startsWith('.') ? m[1]!.toLowerCase().endsWith(b) : m[1]!.toLowerCase() === b;
  }
  return false;
}

function hostWithin(host: string, base: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const b = base.toLowerCase().replace(/^\./, '');
  return b === '' || h === b || h.endsWith('.' + b);
}

function isSelfIssued(cert: CertificateInfo): boolean {
  return namesEqual(cert.subject, cert.issuer);
}

/** Extensions this validator processes or may safely ignore when marked critical (§6.1.4 (o), §6.1.5 (f)). */
const RECOGNISED = new Set<string>([
  X509.basicConstraints,
  X509.keyUsage,
  X509.extKeyUsage,
  X509.nameConstraints,
  X509.subjectAltName,
  X509.issuerAltName,
  X509.subjectKeyIdentifier,
  X509.authorityKeyIdentifier,
  X509.cRLDistributionPoints,
  X509.freshestCRL,
  X509.authorityInfoAccess,
  X509.subjectInfoAccess,
  // certificate policies (path-policy.ts)
  X509.certificatePolicies,
  X509.policyMappings,
  X509.policyConstraints,
  X509.inhibitAnyPolicy,
]);

/** §6.1.4: prepare for certificate i+1 (cert is certificate i, a CA). */
function prepareNext(cert: CertificateInfo, state: State): void {
  const who = `issuer certificate "${describeName(cert.subject)}"`;
  // (c) working_issuer_name; (d)-(f) working_public_key, its parameters (DSA inherits) and algorithm
  state.workingIssuerName = cert.subject;
  state.workingPublicKey = workingKeyOf(cert, state.workingPublicKey);
  // (g) name constraints
  const nc = readOrFail(() => nameConstraintsOf(cert), who, 'nameConstraints');
  if (nc) state.constraints.push(nc);
  // (k) basicConstraints: cA must be true
  const bc = readOrFail(() => basicConstraintsOf(cert), who, 'basicConstraints');
  if (!bc?.cA)
    throw new PathFailure('basic-constraints', `${who} is not a CA (basicConstraints; RFC 5280 §6.1.4 (k))`);
  // (l) a certificate that is not self-issued uses up one step of max_path_length
  if (!isSelfIssued(cert)) {
    if (state.maxPathLength <= 0)
      throw new PathFailure(
        'path-length',
        `${who} exceeds the maximum path length (pathLenConstraint; RFC 5280 §6.1.4 (l))`,
      );
    state.maxPathLength--;
  }
  // (m) pathLenConstraint lowers max_path_length
  if (bc.pathLenConstraint !== undefined && bc.pathLenConstraint < state.maxPathLength)
    state.maxPathLength = bc.pathLenConstraint;
  // (n) keyUsage, when present, must allow keyCertSign
  const ku = readOrFail(() => keyUsageOf(cert), who, 'keyUsage');
  if (ku && !ku.has(KEY_USAGE.keyCertSign))
    throw new PathFailure(
      'key-usage',
      `${who} may not sign certificates (keyUsage lacks keyCertSign; RFC 5280 §6.1.4 (n))`,
    );
  // (o) other critical extensions
  checkCriticalExtensions(cert, who);
}

/** §6.1.5 (f) and the purpose of the target (RFC 5280 §4.2.1.3, §4.2.1.12; RFC 3161 §2.3). */
function wrapUp(cert: CertificateInfo, purpose: PathPurpose): void {
  const who = `certificate "${describeName(cert.subject)}"`;
  checkCriticalExtensions(cert, who);
  const ku = readOrFail(() => keyUsageOf(cert), who, 'keyUsage');
  if (
    purpose === 'signer' &&
    ku &&
    !ku.has(KEY_USAGE.digitalSignature) &&
    !ku.has(KEY_USAGE.nonRepudiation)
  ) {
    throw new PathFailure(
      'key-usage',
      `${who} may not be used for signatures (key usage lacks digitalSignature and nonRepudiation)`,
    );
  }
  if (purpose === 'tsa' && ku && !ku.has(KEY_USAGE.digitalSignature) && !ku.has(KEY_USAGE.nonRepudiation)) {
    throw new PathFailure(
      'key-usage',
      `time-stamp authority ${who} may not sign (key usage lacks digitalSignature and nonRepudiation)`,
    );
  }
  if (purpose === 'crl-issuer' && ku && !ku.has(KEY_USAGE.cRLSign)) {
    throw new PathFailure(
      'key-usage',
      `${who} may not sign CRLs (keyUsage lacks cRLSign; RFC 5280 §6.3.3 (f))`,
    );
  }
  if (purpose === 'tsa') {
    // RFC 3161 §2.3: extended key usage with id-kp-timeStamping, and the extension critical
    const eku = readOrFail(() => extKeyUsageOf(cert), who, 'extKeyUsage');
    if (!eku || !eku.includes(TIME_STAMPING)) {
      throw new PathFailure(
        'extended-key-usage',
        `${who} is not a time-stamp authority (extended key usage lacks id-kp-timeStamping; RFC 3161 §2.3)`,
      );
    }
    if (!cert.extensions.get(X509.extKeyUsage)?.critical) {
      throw new PathFailure(
        'extended-key-usage',
        `${who}: its timeStamping extended key usage is not marked critical (RFC 3161 §2.3)`,
      );
    }
  }
}

const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

function checkCriticalExtensions(cert: CertificateInfo, who: string): void {
  for (const [oid, ext] of cert.extensions) {
    if (ext.critical && !RECOGNISED.has(oid))
      throw new PathFailure(
        'critical-extension',
        `${who} has an unrecognised critical extension ${oid} (RFC 5280 §6.1.4 (o))`,
      );
  }
}

function policyStep(step: () => void): void {
  try {
    step();
  } catch (e) {
    if (e instanceof PolicyError) throw new PathFailure('policy', e.message);
    throw new PathFailure(
      'malformed',
      `a certificate policy extension cannot be read: ${(e as Error).message}`,
    );
  }
}

function readOrFail<T>(read: () => T, who: string, what: string): T {
  try {
    return read();
  } catch {
    throw new PathFailure('malformed', `${who} has an unreadable ${what} extension`);
  }
}

/** §6.1.3 (a)(3) with §6.3: the certificate is not revoked at the validation time. */
async function checkRevocation(cert: CertificateInfo, issuer: CertificateInfo, ctx: Context): Promise<void> {
  const id = toHex(cert.serialNumberDer) + '/' + toHex(cert.issuer);
  if (ctx.checking.has(id)) return; // this certificate signs the CRL being used to check it further up
  if (ctx.revocationEvidence) {
    const ev = await ctx.revocationEvidence(cert, issuer, ctx.time);
    if (ev.status === 'revoked') throw new PathFailure('revoked', ev.reasons.join('; '));
    if (ev.status === 'unknown' && ev.required)
      throw new PathFailure('revocation-unknown', ev.reasons.join('; '));
  }
  if (ctx.crls.length === 0 && ctx.revocation === 'if-available') return;
  ctx.checking.add(id);
  try {
    const status = await crlStatus({
      cert,
      issuer,
      crls: ctx.crls,
      time: ctx.time,
      namesEqual,
      crlSignedByValidIssuer: (crl) => crlSignedByValidIssuer(crl, issuer, ctx),
    });
    if (status.status === 'revoked') throw new PathFailure('revoked', status.reasons.join('; '));
    if (status.status === 'unknown' && ctx.revocation === 'if-available')
      ctx.warnings.push(...status.unusable);
    if (status.status === 'unknown' && ctx.revocation === 'require') {
      throw new PathFailure(
        'revocation-unknown',
        `the revocation status of "${describeName(cert.subject)}" cannot be established: ${status.reasons.join('; ')}`,
      );
    }
  } finally {
    ctx.checking.delete(id);
  }
}

/**
 * §6.3.3 (f)-(g): a key that signed the CRL and whose certificate has a valid path for CRL
 * signing (cRLSign) — the certificate's issuer itself, or another certificate of the CRL issuer's
 * name (separate CRL keys, self-issued CRL signing keys, indirect CRLs).
 */
async function crlSignedByValidIssuer(
  crl: ParsedCrl,
  issuer: CertificateInfo,
  ctx: Context,
): Promise<CrlSignerCheck> {
  const who = describeName(crl.issuer);
  const signers = [...ctx.anchors, ...ctx.pool].filter((c) => namesEqual(c.subject, crl.issuer));
  // the issuer of the certificate first: the usual case, one key for certificates and CRLs
  signers.sort((a, b) => Number(bytesEqual(b.der, issuer.der)) - Number(bytesEqual(a.der, issuer.der)));
  let reason = `no certificate of the CRL issuer "${who}" verifies the CRL's signature`;
  for (const signer of signers) {
    const ok = await verifyWithWorkingKey(workingKeyOf(signer), crl.sigAlg, crl.tbs, crl.signature);
    if (!ok) continue;
    if (ctx.anchors.some((a) => bytesEqual(a.der, signer.der))) {
      const ku = keyUsageOf(signer);
      if (ku && !ku.has(KEY_USAGE.cRLSign)) {
        reason = `the CRL issuer "${who}" may not sign CRLs (keyUsage lacks cRLSign)`;
        continue;
      }
      return { ok: true };
    }
    if (ctx.depth >= MAX_CRL_ISSUER_DEPTH) {
      reason = `the CRL issuer "${who}" is nested too deep to validate`;
      continue;
    }
    const nested = await validateIn(signer, 'crl-issuer', { ...ctx, depth: ctx.depth + 1 });
    if (nested.valid) return { ok: true };
    reason = `the CRL issuer "${who}" is not valid: ${nested.reasons.join('; ')}`;
    if (nested.status === 'revoked') return { ok: false, revoked: true, reason };
  }
  return { ok: false, reason };
}

function derOf(input: Uint8Array | string): Uint8Array[] {
  return pemToDer(input);
}

function parseAll(ders: Uint8Array[]): CertificateInfo[] {
  const out: CertificateInfo[] = [];
  for (const d of ders) {
    try {
      out.push(parseCertificate(d));
    } catch {
      /* an unreadable extra certificate cannot be on a path */
    }
  }
  return out;
}
