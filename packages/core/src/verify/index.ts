/**
 * verifyPdf (DESIGN.md "The verification path"): per signature, ByteRange sanity, digest and CMS,
 * timestamps, chain and trust at the validation time, and what changed after it.
 */
import { digestChunks } from '../digest';
import { SidianError, isSidianError } from '../errors';
import { WorkBudget } from '../pdf/budget';
import { PdfDocument, type PdfView } from '../pdf/document';
import { addGbSealReports } from '../gm/ses/pdf';
import { isRandomAccessFile, type PdfInput } from '../pdf/source';
import { PdfDict, PdfRef, PdfString, latin1Bytes, type PdfObject } from '../pdf/objects';
import { Parser, indexOfBytes, lastIndexOfBytes } from '../pdf/parser';
import { describeName, nameAttribute } from '../pki/certificate';
import { OID } from '../pki/oids';
import { docMdpOf, fieldLocks, listFields, type FieldInfo } from '../sign/fields';
import { checkByteRange } from './byte-range';
import { type AnyHash, verifySignedData, verifyTimestampToken } from './cms-verify';
import { analyseModifications } from './modifications';
import { type Evidence, cmsEvidence, dssEvidence, givenEvidence } from '../pki/revocation';
import type { CertificateInfo } from '../pki/certificate';
import { settleTrust, type PendingTrust } from './long-term';
import { pemToDer } from './trust';
import type { SignatureReport, VerificationReport, VerifyOptions } from './types';

export type { SignatureReport, VerificationReport, VerifyOptions } from './types';

const ACCEPTED_SUBFILTERS = new Set([
  'ETSI.CAdES.detached',
  'adbe.pkcs7.detached',
  'adbe.pkcs7.sha1',
  'ETSI.RFC3161',
]);

interface FoundSignature {
  field: FieldInfo;
  ref: PdfRef;
  dict: PdfDict;
  /** Why the field's /V is not a readable signature dictionary (a malformed signature, not an unsigned field). */
  unreadable?: string;
}

export async function verifyPdf(pdf: PdfInput, options: VerifyOptions = {}): Promise<VerificationReport> {
  const deadline = Date.now() + (options.timeBudgetMs ?? 10_000);
  // one budget for the whole job: every stream decoded, every table built, the deadline inside both
  const budget = WorkBudget.forFile(isRandomAccessFile(pdf) ? pdf.size : pdf.length, {
    limitBytes: options.decodeBudgetBytes,
    deadline,
  });
  const checkTime = () => {
    // a budget overrun swallowed by some lenient read still ends the job
    budget.rethrow();
    if (Date.now() > deadline)
      throw new SidianError('LIMIT_EXCEEDED', 'verification exceeded its time budget');
  };
  let doc: PdfDocument;
  let fields: FieldInfo[];
  let view: PdfView;
  /** Set when the newest revision cannot be read and an earlier one is judged instead. */
  let damaged: string | undefined;
  try {
    doc = PdfDocument.load(pdf, { recover: true, budget });
    view = doc.latest;
    try {
      fields = listFields(view);
    } catch (e) {
      if (!isSidianError(e) || e.code === 'LIMIT_EXCEEDED') throw e;
      // An update that cannot be read (a broken or hostile one) must not hide the signatures
      // before it: judge the newest revision that reads, and report that the rest is unknown.
      const earlier = readableRevision(doc);
      if (!earlier) throw e;
      ({ view, fields } = earlier);
      damaged = `the update written after byte ${earlier.end} cannot be read (${e.message}), so what readers show of this document is unknown`;
    }
    if (doc.recovered && !damaged) {
      // The cross-reference had to be rebuilt from object headers (objects inside object streams
      // are lost to it): signatures of the revisions the file's %%EOF markers end are judged in
      // the newest of them that reads, and the rest is reported as unknown.
      const earlier = readableRevision(doc);
      if (earlier?.fields.some((f) => f.type === 'Sig' && f.dict.has('V'))) {
        ({ view, fields } = earlier);
        damaged = `the update written after byte ${earlier.end} cannot be read (its cross-reference is damaged), so what readers show of this document is unknown`;
      }
    }
  } catch (e) {
    if (isSidianError(e)) throw e;
    throw new SidianError('VERIFY_UNREADABLE', `the PDF cannot be read: ${(e as Error).message}`);
  }
  const revisions = countRevisions(doc);

  // Signature dictionaries by field; one dictionary shared by two fields is a wrapping attack.
  const found: FoundSignature[] = [];
  const users = new Map<number, number>();
  for (const f of fields) {
    if (f.type !== 'Sig') continue;
    const v = f.dict.get('V');
    if (v === undefined || v === null) continue;
    if (!(v instanceof PdfRef)) {
      const d = view.dict(v);
      if (d) found.push({ field: f, ref: new PdfRef(-1, 0), dict: d });
      continue;
    }
    // A /V that names a missing or unreadable object is a broken signature, not an empty field:
    // skipping it would let a damaged signature silently disappear from the report.
    let d: PdfDict | undefined;
    let unreadable: string | undefined;
    try {
      d = view.dict(v);
      if (!d)
        unreadable = `the signature value of field "${f.fullName}" (object ${v.num}) is missing or not a dictionary`;
    } catch (e) {
      if (isSidianError(e) && e.code === 'LIMIT_EXCEEDED') throw e;
      unreadable = `the signature dictionary of field "${f.fullName}" (object ${v.num}) cannot be read: ${(e as Error).message}`;
    }
    users.set(v.num, (users.get(v.num) ?? 0) + 1);
    found.push({ field: f, ref: v, dict: d ?? new PdfDict(), unreadable });
  }
  // A signature dictionary that no field names any more (its field lost /V or /FT, or left the
  // form) is a signature taken out of the document, not nothing: report it as broken.
  for (const orphan of orphanSignatures(view, new Map([...users, ...usageRightsSignatures(view)]))) {
    const name = `(no field: object ${orphan.num})`;
    found.push({
      field: { ref: undefined, dict: new PdfDict(), fullName: name, type: 'Sig', widgets: [] },
      ref: new PdfRef(orphan.num, 0),
      dict: orphan.dict,
      unreadable: `signature dictionary ${orphan.num} is in the document but no signature field refers to it (a signature was removed from the form)`,
    });
  }
  // Signatures an earlier revision had and the final one dropped with their objects (freed or
  // overwritten): they must not vanish from the report.
  const removed = removedSignatures(doc, view, found);
  if (found.length === 0 && removed.length === 0) {
    checkTime();
    if (doc.parseExhausted) throw unreadableAfterExhaustion();
    if (damaged) throw new SidianError('VERIFY_UNREADABLE', `the PDF cannot be read in full: ${damaged}`);
    return { status: 'unsigned', revisions, signatures: [] };
  }

  const anchors = (options.trustAnchors ?? []).flatMap(pemToDer);
  const dss = readDss(view);
  const given = givenEvidence((options.crls ?? []).flatMap(pemToDer), options.ocsps ?? []);
  const certifier = found.find((s) => isCertification(view, s));
  const certifierP = certifier ? docMdpOf(view, certifier.dict) : undefined;

  // Judge each signature; order them by where their signed bytes end.
  const judged: { end: number; report: SignatureReport; pending?: PendingTrust }[] = [];
  for (const s of found) {
    checkTime();
    const { report, pending } = await judgeSignature(doc, view, s, users, certifier, certifierP);
    judged.push({ end: report.byteRange ? report.byteRange[2]! + report.byteRange[3]! : Number.MAX_SAFE_INTEGER, report, pending });
  }
  checkTime();
  for (const rm of removed) judged.push({ end: rm.end, report: removedReport(rm) });
  judged.sort((a, b) => a.end - b.end);
  // Trust at the verification time, or at the time of a time-stamp that proves existence
  // (verify/long-term.ts): document time-stamps newest first, so each can lean on later ones.
  await settleTrust(
    judged,
    {
      doc,
      anchors,
      given,
      finalDss: dss.evidence,
      at: options.at ?? options.validationTime ?? new Date(),
      atGiven: !!(options.at ?? options.validationTime),
      checkTime,
    },
  );
  for (const j of judged) j.report.status = statusOf(j.report);
  const signatures = judged.map((j) => j.report);
  for (const rm of removed) {
    for (const j of judged) {
      if (j.end >= rm.end) continue;
      j.report.status = 'invalid';
      j.report.modificationsAfter = 'disallowed';
      j.report.reasons.push(`a later signature (signature dictionary ${rm.num}, signed up to byte ${rm.end}) was removed from the document: ${rm.how}`);
    }
  }
  // Once failed parses have spent the file's allowance, objects read afterwards came back
  // unreadable whatever they hold: no verdict built on them may stand.
  if (doc.parseExhausted) {
    for (const r of signatures) {
      r.status = 'invalid';
      if (r.modificationsAfter !== 'none') r.modificationsAfter = 'disallowed';
      r.reasons.push(unreadableAfterExhaustion().message);
    }
  }
  // A cross-reference rebuilt from object headers (startxref or the chain unreadable) says nothing
  // about revisions: what follows a signature is then not a readable update, never `none`.
  if (doc.recovered) {
    for (const r of signatures) {
      const end = r.byteRange?.length === 4 ? r.byteRange[2]! + r.byteRange[3]! : undefined;
      if (end === doc.size) continue;
      r.status = 'invalid';
      r.modificationsAfter = 'disallowed';
      r.reasons.push('the cross-reference of the file cannot be read as written and was rebuilt from its object headers: what follows the signature is not a readable update');
    }
  }
  if (damaged) {
    for (const r of signatures) {
      r.status = 'invalid';
      r.modificationsAfter = 'disallowed';
      r.reasons.push(damaged);
    }
  }
  // Levels that depend on what follows (ETSI EN 319 142-1 §6.3): B-T also by a document
  // time-stamp after the signature; B-LT by a DSS written after the B-T time-stamp; B-LTA by a
  // document time-stamp after that DSS.
  const dtsEnds = signatures
    .filter((t) => t.kind === 'document-timestamp' && t.integrity === 'ok' && t.byteRange)
    .map((t) => t.byteRange![2]! + t.byteRange![3]!)
    .sort((a, b) => a - b);
  for (const r of signatures) {
    if (r.kind === 'document-timestamp' || r.level === null) continue;
    const end = r.byteRange ? r.byteRange[2]! + r.byteRange[3]! : 0;
    const proof = r.level === 'B-B' ? dtsEnds.find((e) => e > end) : end;
    if (proof === undefined) continue;
    if (r.level === 'B-B') r.level = 'B-T';
    const dssAt = dss.writtenAt.find((o) => o > proof);
    if (dssAt === undefined) continue;
    r.level = dtsEnds.some((e) => e > dssAt) ? 'B-LTA' : 'B-LT';
  }
  const status = signatures.some((s) => s.status === 'invalid')
    ? 'invalid'
    : signatures.some((s) => s.status === 'indeterminate')
      ? 'indeterminate'
      : 'valid';
  const report: VerificationReport = { status, revisions, signatures };
  // GB/T 38540 seals carried by SM2 signatures (gm/ses/pdf.ts): each one's verdict in `gbSeal`
  await addGbSealReports(pdf, report, options);
  return report;
}

async function judgeSignature(
  doc: PdfDocument,
  view: PdfView,
  s: FoundSignature,
  users: Map<number, number>,
  certifier: FoundSignature | undefined,
  certifierP: 1 | 2 | 3 | undefined,
): Promise<{ report: SignatureReport; pending?: PendingTrust }> {
  const d = s.dict;
  const subFilter = d.name('SubFilter') ?? null;
  const docTs = d.name('Type') === 'DocTimeStamp' || subFilter === 'ETSI.RFC3161';
  const certification = !docTs && certifier === s;
  const report: SignatureReport = {
    field: s.field.fullName,
    kind: docTs ? 'document-timestamp' : certification ? 'certification' : 'approval',
    subFilter,
    level: null,
    signer: null,
    claimedTime: pdfDateToIso(view.resolve(d.get('M'))),
    timestampTime: null,
    integrity: 'malformed',
    coverage: 'partial',
    modificationsAfter: 'none',
    trust: 'unknown',
    status: 'invalid',
    reasons: [],
    widgets: widgetsOf(view, s.field),
  };
  if (certification && certifierP) report.docMdp = certifierP;
  const reasons = report.reasons;
  let pending: PendingTrust | undefined;
  try {
    if (s.unreadable) {
      reasons.push(s.unreadable);
      return { report };
    }
    if (s.ref.num < 0) {
      reasons.push('the signature dictionary is a direct object, so it cannot be located in the signed bytes');
      return { report };
    }
    if ((users.get(s.ref.num) ?? 0) > 1) {
      reasons.push('one signature dictionary is the value of several fields (signature wrapping)');
      return { report };
    }
    if (!subFilter || !ACCEPTED_SUBFILTERS.has(subFilter)) {
      reasons.push(`unsupported /SubFilter ${subFilter ?? '(none)'}`);
      return { report };
    }
    const br = checkByteRange(view, s.ref, d);
    if (!br.ok) {
      reasons.push(...br.reasons);
      report.byteRange = numbers(view.resolve(d.get('ByteRange')));
      // Bytes past the range it names were never analysed: `none` would say nothing follows
      // (found by the render oracle: a copied ByteRange over a rewritten page read `none`).
      const named = report.byteRange;
      if (!(named?.length === 4 && named[2]! + named[3]! >= doc.size))
        report.modificationsAfter = 'disallowed';
      return { report };
    }
    report.byteRange = [...br.loc.byteRange];
    report.coverage = br.coverage;
    reasons.push(...br.reasons);
    if (br.coverage === 'partial') report.modificationsAfter = 'disallowed';
    const [, a, b, c] = br.loc.byteRange;
    const signedRanges: [number, number][] = [
      [0, a],
      [b, b + c],
    ];
    const rangeDigest = (h: AnyHash) => doc.digestRanges(h, signedRanges);
    const contents = br.loc.contents;
    let signerCert: CertificateInfo | undefined;
    let pool: Uint8Array[] = [];
    const own: Evidence = cmsEvidence(contents);
    let signatureTimestamp: PendingTrust['signatureTimestamp'];

    if (docTs) {
      const ts = await verifyTimestampToken(contents, rangeDigest);
      pool = ts.certificates;
      signerCert = ts.tsa;
      if (ts.algorithm) report.algorithm = ts.algorithm;
      if (!ts.ok) {
        report.integrity = ts.reasons.some((r) => r.includes('imprint'))
          ? 'digest-mismatch'
          : ts.tsa
            ? 'bad-signature'
            : 'malformed';
        reasons.push(...ts.reasons);
      } else {
        report.integrity = 'ok';
        report.timestampTime = ts.genTime?.toISOString() ?? null;
      }
    } else {
      const sd = await verifySignedData(contents, subFilter === 'adbe.pkcs7.sha1' ? undefined : rangeDigest);
      pool = sd.certificates;
      signerCert = sd.signer;
      if (sd.algorithm) report.algorithm = sd.algorithm;
      report.integrity = sd.integrity;
      reasons.push(...sd.reasons, ...sd.warnings);
      if (sd.integrity === 'ok' && subFilter === 'adbe.pkcs7.sha1') {
        const sha1 = await doc.digestRanges('SHA-1', signedRanges);
        if (!sd.eContent || !equal(sd.eContent, sha1)) {
          report.integrity = 'digest-mismatch';
          reasons.push('the encapsulated SHA-1 digest does not match the signed bytes');
        }
      }
      if (sd.integrity === 'ok' && subFilter === 'ETSI.CAdES.detached') {
        report.level = sd.hasSigningCertificateV2 ? 'B-B' : null;
        if (!sd.hasSigningCertificateV2)
          reasons.push('no signing-certificate-v2 attribute: not PAdES baseline');
        if (sd.hasSigningTime)
          reasons.push('a signing-time attribute is present, which PAdES baseline forbids');
      }
      if (sd.timestampToken && sd.signatureValue) {
        const sigValue = sd.signatureValue;
        const ts = await verifyTimestampToken(sd.timestampToken, (h) => digestChunks(h, [sigValue]));
        pool = [...pool, ...ts.certificates];
        if (ts.ok && ts.genTime) {
          report.timestampTime = ts.genTime.toISOString();
          if (report.level === 'B-B') report.level = 'B-T';
          // Whether its TSA is trusted (so that its time may be the validation time) is decided
          // with the other trust questions, in long-term.ts.
          signatureTimestamp = { time: ts.genTime, tsa: ts.tsa, certificates: ts.certificates, evidence: cmsEvidence(sd.timestampToken) };
        } else {
          reasons.push(...ts.reasons.map((r) => `signature timestamp: ${r}`));
          report.integrity = report.integrity === 'ok' ? 'bad-signature' : report.integrity;
        }
      }
    }
    if (signerCert) {
      report.signer = {
        commonName: safe(() => nameAttribute(signerCert.subject, OID.commonName)) ?? null,
        organization: safe(() => nameAttribute(signerCert.subject, OID.organizationName)) ?? null,
        serialNumber: signerCert.serialNumberHex,
        issuer: describeName(signerCert.issuer),
      };
      pending = {
        cert: signerCert,
        pool,
        purpose: docTs ? 'timestamping' : 'signing',
        end: b + c,
        own,
        time: docTs && report.integrity === 'ok' && report.timestampTime ? new Date(report.timestampTime) : undefined,
        signatureTimestamp,
      };
    }

    // What changed after this signature.
    const end = b + c;
    if (end < doc.size && br.coverage !== 'partial') {
      const later = doc.sections.filter((sec) => sec.offset >= end);
      if (later.length === 0) {
        doc.access.ensure(end, doc.size);
        const tail = doc.bytes.subarray(end);
        if (!tail.every((x) => x === 0x20 || x === 0x0a || x === 0x0d || x === 0x00 || x === 0x09)) {
          report.modificationsAfter = 'disallowed';
          reasons.push(`${doc.size - end} bytes after the signed revision are not covered by the signature`);
        }
      } else {
        const certified = !!(certifierP && certifier && sigEnd(certifier) <= end);
        const cap: 1 | 2 | 3 = certified ? certifierP! : 2;
        // The signed state is the revision the signed bytes describe (the chain from their own
        // startxref), never the final chain cut at `end`: an update whose /Prev skips the signed
        // revision would otherwise be compared with the revision before the signature.
        const signedView = doc.revisionAt(end);
        const chain = signedView
          ? chainBreak(doc, signedView, end)
          : 'the cross-reference of the signed revision cannot be read';
        if (chain) {
          report.modificationsAfter = 'disallowed';
          reasons.push(chain);
        } else {
          const m = analyseModifications(signedView!, view, cap, {
            certified,
            locks: signatureLocks(view, signedView!, s),
          });
          report.modificationsAfter = m.verdict;
          reasons.push(...m.reasons);
          const conflicts = hybridConflicts(doc, signedView!);
          if (conflicts.length) {
            report.modificationsAfter = 'disallowed';
            reasons.push(...conflicts);
          }
        }
      }
      // Bytes after the signed revision must be updates that read as written, and leave the
      // file as every reader takes it: never `none` (nor `allowed`) otherwise.
      const unreadable = unreadableAfter(doc, end);
      if (unreadable.length) {
        report.modificationsAfter = 'disallowed';
        reasons.push(...unreadable);
      }
    }
  } catch (e) {
    if (isSidianError(e) && e.code === 'LIMIT_EXCEEDED') throw e;
    report.integrity = report.integrity === 'ok' ? report.integrity : 'malformed';
    report.modificationsAfter = 'disallowed';
    reasons.push(`verification failed: ${(e as Error).message}`);
  }
  report.status = statusOf(report);
  return { report, pending };

  function sigEnd(f: FoundSignature): number {
    const br = numbers(view.resolve(f.dict.get('ByteRange')));
    return br && br.length === 4 ? br[2]! + br[3]! : Number.MAX_SAFE_INTEGER;
  }
}

function statusOf(report: SignatureReport): SignatureReport['status'] {
  return report.integrity !== 'ok' || report.coverage === 'partial' || report.modificationsAfter === 'disallowed'
    ? 'invalid'
    : report.trust !== 'trusted'
      ? 'indeterminate'
      : 'valid';
}

/**
 * The newest revision before the last whose form can be read, with its fields; revisions are tried
 * newest first, at most 32 of them.
 */
interface RemovedSignature {
  num: number;
  /** Where its signed bytes end (else where the revision that had it ends). */
  end: number;
  dict: PdfDict;
  how: string;
}

/**
 * Signature dictionaries that a section of the final cross-reference chain defines but that the
 * final revision no longer has as that object (freed, or the number re-used): a later update took
 * the signature out. Only definitions the final view does not use are read, each only when its
 * bytes hold `/ByteRange`, at most 10 000 of them and 16 MB of bytes looked at.
 */
function removedSignatures(doc: PdfDocument, view: PdfView, found: FoundSignature[]): RemovedSignature[] {
  const present = new Set(found.map((f) => f.ref.num));
  const out = new Map<number, RemovedSignature>();
  let budget = 10_000;
  let scanned = 0;
  for (const sec of doc.sections) {
    if (sec.offset < 0) continue; // a rebuilt cross-reference has no history
    for (const [num, e] of sec.entries) {
      if (e.type !== 1 || present.has(num) || out.has(num)) continue;
      const now = view.entries.get(num);
      if (now && now.type === 1 && now.offset === e.offset) continue;
      if (--budget < 0) return [...out.values()];
      const off = e.offset;
      if (off < 0 || off >= doc.size) continue;
      // a signature dictionary's /ByteRange may follow its /Contents (pyHanko writes it so)
      const limit = Math.min(doc.size, off + 128 * 1024);
      if ((scanned += limit - off) > 16 * 1024 * 1024) return [...out.values()];
      doc.access.ensure(off, limit);
      const head = indexOfBytes(doc.bytes, STREAM_KEY, off, limit);
      if (indexOfBytes(doc.bytes, BYTE_RANGE_KEY, off, head >= 0 ? head : limit) < 0) continue;
      const o = doc.parseIndirectAt(off);
      if (!o || o.num !== num || !(o.value instanceof PdfDict)) continue;
      const d = o.value;
      if (!d.has('ByteRange') || !d.has('Contents')) continue;
      const br = numbers(d.get('ByteRange'));
      const end = br && br.length === 4 ? br[2]! + br[3]! : sec.eofEnd > 0 ? sec.eofEnd : doc.size;
      const how = !now || now.type === 0 ? 'its objects were freed' : `object ${num} was overwritten with something else`;
      out.set(num, { num, end, dict: d, how });
    }
  }
  return [...out.values()];
}

function removedReport(rm: RemovedSignature): SignatureReport {
  const subFilter = rm.dict.name('SubFilter') ?? null;
  const docTs = rm.dict.name('Type') === 'DocTimeStamp' || subFilter === 'ETSI.RFC3161';
  return {
    field: `(removed: object ${rm.num})`,
    kind: docTs ? 'document-timestamp' : 'approval',
    subFilter,
    level: null,
    signer: null,
    claimedTime: pdfDateToIso(rm.dict.get('M')),
    timestampTime: null,
    integrity: 'malformed',
    coverage: 'partial',
    modificationsAfter: 'disallowed',
    trust: 'unknown',
    status: 'invalid',
    reasons: [`signature dictionary ${rm.num} was signed into an earlier revision, but a later update removed it: ${rm.how}`],
    byteRange: numbers(rm.dict.get('ByteRange')),
  };
}

function readableRevision(doc: PdfDocument): { view: PdfView; fields: FieldInfo[]; end: number } | undefined {
  // A cross-reference rebuilt from object markers has no revisions of its own: the file's
  // %%EOF markers still say where each revision ended.
  const known = doc.recovered ? eofEnds(doc, 33) : doc.sections.map((s) => s.eofEnd);
  const ends = [...new Set(known)]
    .filter((e) => e > 0)
    .sort((a, b) => b - a)
    .slice(1, 33);
  for (const end of ends) {
    const view = doc.revisionAt(end);
    if (!view) continue;
    try {
      return { view, fields: listFields(view), end };
    } catch (e) {
      if (isSidianError(e) && e.code === 'LIMIT_EXCEEDED') throw e;
    }
  }
  return undefined;
}

/**
 * Why the final cross-reference chain does not build on the signed revision, or undefined when it
 * does: the final chain must run through the signed revision's own sections (the same offsets, in
 * order, to its end), and every section before them must have been written after the signed bytes.
 */
function chainBreak(doc: PdfDocument, signed: PdfView, end: number): string | undefined {
  const final = doc.sections.map((s) => s.offset);
  const own = signed.sections.map((s) => s.offset);
  const k = final.indexOf(own[0]!);
  if (k < 0) return 'the update does not build on the signed revision (its /Prev chain skips it)';
  const rest = final.slice(k);
  if (rest.length !== own.length || rest.some((o, i) => o !== own[i])) {
    return "the update's cross-reference chain does not continue with the signed revision's own sections";
  }
  const early = final.slice(0, k).find((o) => o < end);
  if (early !== undefined) {
    return `the update's cross-reference chain takes in a section at byte ${early}, inside the signed bytes but not part of the signed revision`;
  }
  return undefined;
}

/**
 * Why what follows the signed bytes [0, end) is not simply the updates this reader judged, if it
 * is not: a linearization dictionary whose /L the file's length now matches (pdf.js and poppler
 * then read only the first-page cross-reference, ISO 32000-2 Annex F.3.3, and show the revision it
 * starts), an update whose cross-reference lists objects past the end of the file or where
 * nothing of that number can be read, or bytes after the last update's %%EOF.
 */
function unreadableAfter(doc: PdfDocument, end: number): string[] {
  const out: string[] = [];
  const linearized = linearizationLength(doc);
  if (linearized !== undefined && linearized === doc.size) {
    out.push(
      `the file is now exactly as long as its linearization dictionary's /L (${linearized} bytes): linearization-aware readers ` +
        `(pdf.js, poppler) then read only the first-page cross-reference and the revision it starts, not what was signed up to byte ${end}`,
    );
  }
  const later = doc.sections.filter((sec) => sec.offset >= end);
  let checked = 0;
  for (const sec of later) {
    for (const [num, e] of sec.entries) {
      if (e.type !== 1 || out.length >= 5) continue;
      if (++checked > 5_000) break;
      if (e.offset < 0 || e.offset >= doc.size) {
        out.push(`the update at byte ${sec.offset} lists object ${num} at byte ${e.offset}, past the end of the file: readers that rebuild its cross-reference may show other objects`);
        continue;
      }
      if (doc.parseIndirectAt(e.offset)?.num === num) continue;
      const markers = (doc.objectMarkers().get(num) ?? []).filter((m) => m >= end).slice(-4);
      if (!markers.some((m) => doc.parseIndirectAt(m)?.num === num)) {
        out.push(`the update at byte ${sec.offset} lists object ${num} at byte ${e.offset}, where it cannot be read`);
      }
    }
  }
  const lastEof = Math.max(...later.map((sec) => sec.eofEnd));
  if (later.length && lastEof > 0 && lastEof < doc.size) {
    doc.access.ensure(lastEof, doc.size);
    const tail = doc.bytes.subarray(lastEof);
    if (!tail.every((x) => x === 0x20 || x === 0x0a || x === 0x0d || x === 0x00 || x === 0x09)) {
      out.push(`${doc.size - lastEof} bytes after the last update's %%EOF belong to no revision`);
    }
  }
  return out;
}

/** /L of the linearization dictionary, when the file's first object is one (ISO 32000-2 Annex F.2.2). */
function linearizationLength(doc: PdfDocument): number | undefined {
  const n = Math.min(doc.size, 2048);
  doc.access.ensure(0, n);
  let head = '';
  for (let i = 0; i < n; i++) head += String.fromCharCode(doc.bytes[i]!);
  const m = /(?:^|[\s>])(\d+)\s+\d+\s+obj\b/.exec(head);
  if (!m) return undefined;
  const at = m.index + m[0].indexOf(m[1]!);
  const o = doc.parseIndirectAt(at);
  const d = o?.value instanceof PdfDict ? o.value : undefined;
  const lin = d?.get('Linearized');
  const length = d?.get('L');
  return typeof lin === 'number' && lin > 0 && typeof length === 'number' ? length : undefined;
}

/**
 * The hybrid sections written after the signed revision whose classic table and /XRefStm disagree
 * about an object, where readers then show different things: an object of the signed revision
 * that the table frees (or points elsewhere) while the stream re-declares it, or any object both
 * list in use at different places. (The table freeing a new object the stream declares is the
 * standard's own hybrid layout.)
 */
function hybridConflicts(doc: PdfDocument, signed: PdfView): string[] {
  const out: string[] = [];
  const first = signed.sections[0]!.offset;
  for (const sec of doc.sections) {
    if (sec.offset === first) break;
    for (const c of sec.conflicts ?? []) {
      const e0 = signed.entries.get(c.num);
      const signedObject = !!e0 && e0.type !== 0;
      if (c.table.type === 0 && !signedObject) continue;
      out.push(
        c.table.type === 0
          ? `object ${c.num} is free in the cross-reference table of the update at byte ${sec.offset} but its /XRefStm declares it`
          : `object ${c.num} has one entry in the cross-reference table of the update at byte ${sec.offset} and another in its /XRefStm`,
      );
      if (out.length >= 5) return out;
    }
  }
  return out;
}

/** Where the last `max` `%%EOF` markers of the file end (with their line end), newest first. */
function eofEnds(doc: PdfDocument, max: number): number[] {
  const bytes = doc.access.all();
  const out: number[] = [];
  for (let k = lastIndexOfBytes(bytes, EOF_KEY); k >= 0 && out.length < max; k = lastIndexOfBytes(bytes, EOF_KEY, k - 1)) {
    let e = k + EOF_KEY.length;
    if (bytes[e] === 0x0d) e++;
    if (bytes[e] === 0x0a) e++;
    out.push(e);
  }
  return out;
}

const EOF_KEY = latin1Bytes('%%EOF');

/**
 * Live signature dictionaries (with /ByteRange and /Contents) that are no field's /V. Only each
 * object's own dictionary is searched, never stream data: one pass over the dictionaries, not the file.
 */
function orphanSignatures(view: PdfView, referenced: Map<number, number>): { num: number; dict: PdfDict }[] {
  const size = view.doc.size;
  // One object per offset (entries that share one cannot all be there): at most one per byte of the
  // file however many entries a cross-reference declares. Where several share it, the number the
  // object's own header gives.
  const byOffset = new Map<number, number>();
  const headers = new Map<number, number>();
  const headerNum = (off: number) => {
    let n = headers.get(off);
    if (n === undefined) {
      view.doc.access.ensure(off, Math.min(size, off + 16));
      try {
        n = new Parser(view.doc.bytes.subarray(0, Math.min(size, off + 16)), off).readInt();
      } catch {
        n = -1;
      }
      headers.set(off, n);
    }
    return n;
  };
  for (const [num, e] of view.entries) {
    if (e.type !== 1 || e.offset < 0 || e.offset >= size) continue;
    const prev = byOffset.get(e.offset);
    if (prev === undefined || (prev !== num && num === headerNum(e.offset) && prev !== headerNum(e.offset)))
      byOffset.set(e.offset, num);
  }
  const live = [...byOffset].map(([off, num]) => ({ num, off }));
  live.sort((a, b) => a.off - b.off);
  const out: { num: number; dict: PdfDict }[] = [];
  for (let i = 0; i < live.length && out.length < 100; i++) {
    const { num, off } = live[i]!;
    if (referenced.has(num)) continue;
    const limit = Math.min(i + 1 < live.length ? live[i + 1]!.off : size, off + 1024 * 1024);
    if (limit <= off) continue;
    // the object's dictionary: up to its stream data, if any
    const dictEnd = view.doc.access.from(
      off,
      (b) => {
        const streamAt = indexOfBytes(b, STREAM_KEY, off, Math.min(limit, b.length));
        return streamAt >= 0 ? streamAt : limit;
      },
      (end) => end,
    );
    if (indexOfBytes(view.doc.bytes, BYTE_RANGE_KEY, off, dictEnd) < 0) continue;
    let d: PdfObject | undefined;
    try {
      d = view.get(num);
    } catch {
      continue;
    }
    if (d instanceof PdfDict && d.has('ByteRange') && d.has('Contents')) out.push({ num, dict: d });
  }
  return out;
}

/**
 * The usage-rights signatures (`/Perms /UR3`, and the older `/UR`; ISO 32000-2 §12.8.2.3): they
 * grant Reader features to the form and belong to no field, so they are not form signatures whose
 * field was taken away.
 */
function usageRightsSignatures(view: PdfView): [number, number][] {
  try {
    const perms = view.dict(view.catalog().get('Perms'));
    return ['UR3', 'UR'].map((k) => perms?.get(k)).filter((r): r is PdfRef => r instanceof PdfRef).map((r) => [r.num, 0]);
  } catch {
    return [];
  }
}

const STREAM_KEY = latin1Bytes('stream');
const BYTE_RANGE_KEY = latin1Bytes('/ByteRange');

function isCertification(view: PdfView, s: FoundSignature): boolean {
  const perms = view.dict(view.catalog().get('Perms'));
  const docMdp = perms?.get('DocMDP');
  if (docMdp instanceof PdfRef && docMdp.num === s.ref.num) return true;
  return (view.array(s.dict.get('Reference')) ?? []).some(
    (r) => view.dict(r)?.name('TransformMethod') === 'DocMDP',
  );
}

/** What a signature locks (FieldMDP): its /Reference, and its field's /Lock as it was when signed. */
function signatureLocks(view: PdfView, signedView: PdfView, s: FoundSignature) {
  const lock = s.field.ref ? signedView.dict(signedView.dict(s.field.ref)?.get('Lock')) : undefined;
  return [...fieldLocks(view, s.dict), ...(lock ? fieldLocks(signedView, undefined, lock) : [])];
}

/**
 * The document security store: its evidence (pki/revocation.ts) and the offsets of the sections
 * that wrote its dictionary (for the B-LT / B-LTA levels).
 */
function readDss(view: PdfView): { writtenAt: number[]; evidence: Evidence } {
  const out: { writtenAt: number[]; evidence: Evidence } = { writtenAt: [], evidence: dssEvidence(view) };
  try {
    const dssObj = view.catalog().get('DSS');
    if (!view.dict(dssObj)) return out;
    // a DSS written as a direct object changes with the catalog
    const num = dssObj instanceof PdfRef ? dssObj.num : view.rootRef.num;
    out.writtenAt = view.doc.sections
      .filter((s) => {
        const e = s.entries.get(num);
        return e !== undefined && e.type !== 0;
      })
      .map((s) => s.offset)
      .sort((a, b) => a - b);
  } catch (e) {
    if (isSidianError(e) && e.code === 'LIMIT_EXCEEDED') throw e;
    /* no usable DSS */
  }
  return out;
}

function widgetsOf(view: PdfView, f: FieldInfo): { page: number; rect: [number, number, number, number] }[] {
  try {
    return f.widgets.flatMap((w) => {
      const r = (view.array(w.dict.get('Rect')) ?? []).map((x) => view.number(x) ?? 0);
      if (r.length !== 4) return [];
      const p = w.dict.get('P');
      // by /P without reading every page (a long licence's tree); else by the pages' /Annots
      let idx = p instanceof PdfRef ? view.pageIndexOf(p) : -1;
      if (idx < 0 && w.ref)
        idx = view
          .pages()
          .findIndex((pg) =>
            (view.array(pg.dict.get('Annots')) ?? []).some(
              (a) => a instanceof PdfRef && a.num === w.ref!.num,
            ),
          );
      if (idx < 0) return [];
      return [{ page: idx + 1, rect: r as [number, number, number, number] }];
    });
  } catch {
    return [];
  }
}

function unreadableAfterExhaustion(): SidianError {
  return new SidianError(
    'VERIFY_UNREADABLE',
    'the file cannot be read in full: objects that fail to parse made the reader scan more than it allows for a file of this size',
  );
}

function countRevisions(doc: PdfDocument): number {
  // Sections that end at the same %%EOF belong to one revision (linearized files have two).
  const ends = new Set(doc.sections.map((s) => s.eofEnd));
  return Math.max(1, ends.size);
}

function numbers(o: unknown): number[] | undefined {
  return Array.isArray(o) && o.every((x) => typeof x === 'number') ? (o as number[]) : undefined;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** PDF date (ISO 32000-2 §7.9.4) to ISO 8601, or null. */
export function pdfDateToIso(o: unknown): string | null {
  if (!(o instanceof PdfString)) return null;
  const m = /^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?/.exec(o.text());
  if (!m) return null;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', sign, oh = '00', om = '00'] = m;
  let t = Date.UTC(+y!, +mo - 1, +d, +h, +mi, +s);
  if (sign === '+' || sign === '-') t -= (sign === '+' ? 1 : -1) * (+oh * 60 + +om) * 60_000;
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}
