/**
 * `sidian audit verify [--data ./data] [--anchors FILE]... [--tsa-cert PEM] [--json]`: re-checks the
 * audit trail's hash chain and every time-stamped head (the anchor table, `<data>/audit-anchors.jsonl`
 * and each exported file), so rewritten and truncated history is found (docs/audit-anchoring.md).
 * `sidian audit anchor-export --out FILE [--data ./data]`: writes the signed heads (JSON lines) for
 * storage the database's administrators do not control. DATABASE_URL selects PostgreSQL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ANCHOR_FILE, listAnchors, readAnchorFile, verifyAnchoredAudit } from '../audit-anchor';
import { openDatabase } from '../db/index';
import { verifyCaseTrail } from '../cases/trail';
import { fromPem } from '../pki/pem';
import { parse, UsageError } from './args';

const USAGE =
  'usage: sidian audit verify [--data DIR] [--anchors FILE]... [--tsa-cert PEM] [--json]\n' +
  '       sidian audit anchor-export --out FILE [--data DIR]';

export async function auditCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    data: { type: 'string', short: 'd' },
    json: { type: 'boolean' },
    anchors: { type: 'string', multiple: true },
    'tsa-cert': { type: 'string' },
    out: { type: 'string', short: 'o' },
  });
  const command = positionals[0];
  if (positionals.length !== 1 || (command !== 'verify' && command !== 'anchor-export'))
    throw new UsageError(USAGE);
  const dataDir = path.resolve(values.data ?? process.env.SIDIAN_DATA ?? './data');
  if (command === 'anchor-export' && !values.out) throw new UsageError(USAGE);
  const db = await openDatabase({ dataDir, databaseUrl: process.env.DATABASE_URL || undefined });
  try {
    if (command === 'anchor-export') {
      const anchors = await listAnchors(db.db);
      fs.writeFileSync(values.out!, anchors.map((a) => JSON.stringify(a) + '\n').join(''));
      const last = anchors[anchors.length - 1];
      process.stdout.write(
        `wrote ${anchors.length} audit anchors to ${values.out}` +
          (last ? ` (newest: entry ${last.seq}, ${last.time})\n` : '\n'),
      );
      return 0;
    }
    const exportFiles = [...(values.anchors ?? [])];
    const local = path.join(dataDir, ANCHOR_FILE);
    if (fs.existsSync(local)) exportFiles.push(local);
    const tsaFile = values['tsa-cert'] ?? path.join(dataDir, 'pki', 'tsa.pem');
    const [tsaCertificate] = fs.existsSync(tsaFile)
      ? fromPem(fs.readFileSync(tsaFile, 'utf8'), 'CERTIFICATE')
      : [];
    if (!tsaCertificate)
      throw new UsageError(
        `no TSA certificate at ${tsaFile}: give the one that signs the anchors with --tsa-cert`,
      );
    const r = await verifyAnchoredAudit(db.db, {
      tsaCertificate,
      exports: exportFiles.map(readAnchorFile),
    });
    // cases: each one's state agrees with what the trail recorded of it (cases/cases.ts)
    const cases = r.ok ? await verifyCaseTrail(db.db) : undefined;
    if (values.json) process.stdout.write(JSON.stringify({ ...r, cases }) + '\n');
    else if (r.ok) {
      process.stdout.write(`audit trail intact: ${r.rows} entries, head ${r.head}\n`);
      process.stdout.write(
        r.anchoredUpTo
          ? `anchored: ${r.anchors} time-stamped heads, the newest at entry ${r.anchoredUpTo.seq} (${r.anchoredUpTo.time})\n`
          : 'not anchored: no time-stamped head, so rewritten or truncated history cannot be detected\n',
      );
      process.stdout.write(
        cases!.ok
          ? `cases: ${cases!.cases} agree with the audit trail\n`
          : `case ${cases!.broken!.caseId} BROKEN: ${cases!.broken!.reason}\n`,
      );
    } else
      process.stdout.write(
        `audit trail BROKEN at entry ${r.broken!.seq}: ${r.broken!.reason} (${r.rows} entries read)\n`,
      );
    return r.ok && cases!.ok ? 0 : 1;
  } finally {
    await db.close();
  }
}
