/**
 * `sidian verify FILE.pdf... [--trust PEM]... [--crl FILE]... [--ocsp FILE]... [--json] [--at ISO]`
 * `--at` validates as at that time (long-term validation; `--time` is its older name).
 * Exit codes (DESIGN.md): 0 valid, 1 invalid, 2 indeterminate, 3 unsigned, 4 unreadable input.
 * With several files the exit code is the worst of them (4 > 1 > 2 > 3 > 0).
 */
import { readFileSync } from 'node:fs';
import { isSidianError, setSm2BasePointTable, verifyPdf, type VerificationReport } from '@sidian/core';
import { UsageError, describeFileError, parse } from './args';
import { openFile } from '../file-source';

const EXIT: Record<VerificationReport['status'], number> = {
  valid: 0,
  invalid: 1,
  indeterminate: 2,
  unsigned: 3,
};
const SEVERITY = [0, 3, 2, 1, 4];

export async function verifyCommand(args: string[]): Promise<number> {
  // one process, one or a few SM2 operations: no table of G's multiples (setSm2BasePointTable)
  setSm2BasePointTable(false);
  const { values, positionals } = parse(args, {
    trust: { type: 'string', multiple: true },
    crl: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    time: { type: 'string' },
    at: { type: 'string' },
    ocsp: { type: 'string', multiple: true },
  });
  if (positionals.length === 0) throw new UsageError('请给出要验证的 PDF verify needs at least one PDF');
  // a missing --trust, --crl or --ocsp file is a mistake in the command, not an unreadable PDF (exit 4)
  const trustAnchors = (values.trust ?? []).map((f) => readOption(f, '--trust', 'utf8'));
  const crls = (values.crl ?? []).map((f) => new Uint8Array(readOption(f, '--crl')));
  const ocsps = (values.ocsp ?? []).map((f) => new Uint8Array(readOption(f, '--ocsp')));
  let validationTime: Date | undefined;
  const when = values.at ?? values.time;
  if (when) {
    const flag = values.at !== undefined ? '--at' : '--time';
    validationTime = new Date(when);
    if (!/^\d{4}-\d{2}-\d{2}/.test(when) || Number.isNaN(validationTime.getTime()))
      throw new UsageError(`${flag} 不是有效的 ISO-8601 时间 is not an ISO-8601 time: ${when}`);
  }
  let worst = 0;
  const reports: Record<string, unknown> = {};
  for (const file of positionals) {
    let code: number;
    try {
      // only what verification needs is read into memory; the signed ranges are hashed from the file
      const input = openFile(file);
      let report: VerificationReport;
      try {
        report = await verifyPdf(input, { trustAnchors, crls, ocsps, at: validationTime });
      } finally {
        input.close();
      }
      code = EXIT[report.status];
      if (values.json) reports[file] = report;
      else printReport(file, report);
    } catch (e) {
      code = 4;
      const msg = isSidianError(e)
        ? `${e.code}: ${e.message}`
        : (describeFileError(e) ?? (e as Error).message);
      process.stderr.write(`sidian: ${file}: ${msg}\n`);
      if (values.json)
        reports[file] = { error: isSidianError(e) ? e.code : 'UNREADABLE', message: (e as Error).message };
    }
    if (SEVERITY.indexOf(code) > SEVERITY.indexOf(worst)) worst = code;
  }
  if (values.json) {
    const out = positionals.length === 1 ? reports[positionals[0]!] : reports;
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  }
  return worst;
}

function readOption(file: string, option: string): Buffer;
function readOption(file: string, option: string, encoding: 'utf8'): string;
function readOption(file: string, option: string, encoding?: 'utf8'): Buffer | string {
  try {
    return encoding ? readFileSync(file, encoding) : readFileSync(file);
  } catch (e) {
    throw new UsageError(`${option}: ${describeFileError(e) ?? (e as Error).message}`);
  }
}

const LABEL: Record<string, string> = {
  valid: '有效 valid',
  invalid: '无效 INVALID',
  indeterminate: '无法确定 indeterminate',
  unsigned: '未签名 unsigned',
};

function printReport(file: string, r: VerificationReport): void {
  const lines = [
    `${file}: ${LABEL[r.status]} (${r.signatures.length} signature(s), ${r.revisions} revision(s))`,
  ];
  for (const s of r.signatures) {
    lines.push(
      `  [${s.status}] ${s.field} (${s.kind}${s.level ? `, ${s.level}` : ''}) by ${s.signer?.commonName ?? '?'}` +
        `${s.signer?.organization ? ` / ${s.signer.organization}` : ''}`,
      `      integrity ${s.integrity}; coverage ${s.coverage}; modifications after: ${s.modificationsAfter}; trust ${s.trust}` +
        `${s.timestampTime ? `; timestamp ${s.timestampTime}` : s.claimedTime ? `; claimed time ${s.claimedTime}` : ''}`,
    );
    if (s.validationTime) {
      const ts = s.evidence?.timestamp;
      lines.push(
        `      验证时间 validated at ${s.validationTime}` +
          (ts
            ? ` (${ts.kind === 'document-timestamp' ? `document time-stamp ${ts.field}` : 'signature time-stamp'})`
            : ''),
      );
    }
    for (const e of s.evidence?.revocation ?? [])
      lines.push(
        `      ${e.kind.toUpperCase()} (${e.source}${e.object !== undefined ? ` object ${e.object}` : ''}) from ${e.issuer}: ${e.status} for ${e.certificate}`,
      );
    for (const reason of s.reasons) lines.push(`      - ${reason}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
