/** `sidian audit verify` for cases: each case's state agrees with what the hash-chained audit trail recorded of it. */
import type { Db } from '../db/index';

/** For `sidian audit verify`: each case's state agrees with its entries in the audit trail. */
export async function verifyCaseTrail(
  db: Db,
): Promise<{ ok: boolean; cases: number; broken?: { caseId: string; reason: string } }> {
  const cases = await db.selectFrom('cases').select(['id', 'document_sha256', 'version', 'status']).execute();
  const entries = await db
    .selectFrom('audit_log')
    .select(['seq', 'action', 'subject'])
    .where('subject', 'like', 'case:%')
    .orderBy('seq', 'asc')
    .execute();
  const byCase = new Map<string, { action: string; sha256: string }[]>();
  for (const e of entries) {
    const m = /^case:([0-9a-f-]{36})(?: step:\S+)? sha256:([0-9a-f]{64})$/.exec(e.subject);
    if (!m) continue;
    const list = byCase.get(m[1]!) ?? [];
    list.push({ action: e.action, sha256: m[2]! });
    byCase.set(m[1]!, list);
  }
  for (const c of cases) {
    const list = byCase.get(c.id) ?? [];
    const transitions = list.filter((e) => e.action === 'case.opened' || e.action.startsWith('step.'));
    const last = list[list.length - 1];
    const reason = !list.length
      ? 'no audit entry records this case'
      : transitions.length !== Number(c.version)
        ? `the case is at version ${c.version} but the audit trail records ${transitions.length} transitions`
        : last!.sha256 !== c.document_sha256
          ? `the case's document (sha256 ${c.document_sha256}) is not the one the audit trail last recorded (${last!.sha256})`
          : c.status === 'done' && last!.action !== 'case.completed'
            ? 'the case is done but the audit trail does not record its completion'
            : undefined;
    if (reason) return { ok: false, cases: cases.length, broken: { caseId: c.id, reason } };
  }
  for (const id of byCase.keys())
    if (!cases.some((c) => c.id === id))
      return {
        ok: false,
        cases: cases.length,
        broken: {
          caseId: id,
          reason: 'the audit trail records a case that is not in the database (deleted)',
        },
      };
  return { ok: true, cases: cases.length };
}
