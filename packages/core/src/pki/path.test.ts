/**
 * RFC 5280 path validation against NIST PKITS (tests/pkits): every case of sections 4.1-4.7 and
 * 4.14-4.16 through the public `validatePath` gives the outcome PKITS lists, failing for the reason
 * PKITS gives. The policy sections (4.8-4.12) are listed in tests/.generated/pkits-report.md (pass
 * or known gap) and, since certificate policies are processed (path-policy.ts), asserted too.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validatePath } from '../index';

const ROOT = join(__dirname, '../../../../tests/pkits');
interface PkitsCase {
  test: string;
  section: string;
  endEntity: string;
  intermediates: string[];
  crls: string[];
  trustAnchor: string;
  revocationRequired: boolean;
  expect: 'valid' | 'invalid' | 'revoked';
  why: string | null;
}
const suite = JSON.parse(readFileSync(join(ROOT, 'cases.json'), 'utf8')) as {
  validationTime: string;
  cases: PkitsCase[];
};
const time = new Date(suite.validationTime);
const cert = (f: string) => new Uint8Array(readFileSync(join(ROOT, 'certs', f)));
const crl = (f: string) => new Uint8Array(readFileSync(join(ROOT, 'crls', f)));

function run(c: PkitsCase) {
  return validatePath({
    target: cert(c.endEntity),
    intermediates: c.intermediates.map(cert),
    trustAnchors: [cert(c.trustAnchor)],
    crls: c.crls.map(crl),
    time,
    purpose: 'any',
    revocation: c.revocationRequired ? 'require' : 'if-available',
  });
}

/** The failure PKITS's one-line reason names, as a PathProblem. */
function expectedProblem(why: string): string {
  const table: [RegExp, string][] = [
    [/CRL indicates/, 'revoked'],
    [/revocation information could be found|revocation checks failed/, 'revocation-unknown'],
    [/signature of .* could not be verified/, 'signature'],
    [/is not valid until|expired/, 'validity'],
    [/is not a CA/, 'basic-constraints'],
    [/maximum path length/, 'path-length'],
    [/not allowed to sign certificates/, 'key-usage'],
    [/unsupported critical/, 'critical-extension'],
    [/no valid set of policies|policy mapping/, 'policy'],
  ];
  return table.find(([re]) => re.test(why))?.[1] ?? `(no mapping for: ${why})`;
}

const section = (c: PkitsCase) => c.section.split('.').slice(0, 2).join('.');
const ASSERTED = new Set(['4.1', '4.2', '4.3', '4.4', '4.5', '4.6', '4.7', '4.14', '4.15', '4.16']);
const POLICY = new Set(['4.8', '4.9', '4.10', '4.11', '4.12']);

describe('NIST PKITS through validatePath', () => {
  const asserted = suite.cases.filter((c) => ASSERTED.has(section(c)));
  it('has the cases of 4.1-4.7 and 4.14-4.16', () => {
    expect(asserted.length).toBe(121);
  });
  for (const c of asserted) {
    it(`${c.section} ${c.test} -> ${c.expect}`, async () => {
      const r = await run(c);
      expect({ status: r.status, reasons: r.reasons }).toMatchObject({ status: c.expect });
      expect(r.valid).toBe(c.expect === 'valid');
      // and for the reason PKITS gives, not another one
      if (!r.valid) {
        expect(r.reasons.length).toBeGreaterThan(0);
        expect(r.problem).toBe(expectedProblem(c.why ?? ''));
      }
    });
  }

  const report: string[] = [];
  afterAll(() => {
    mkdirSync(join(__dirname, '../../../../tests/.generated'), { recursive: true });
    writeFileSync(join(__dirname, '../../../../tests/.generated/pkits-report.md'), report.join('\n') + '\n');
  });
  it('runs the policy sections 4.8-4.12 and lists their results in the report', async () => {
    const rows: string[] = [];
    let pass = 0;
    const policy = suite.cases.filter((c) => POLICY.has(section(c)));
    for (const c of policy) {
      const r = await run(c);
      const ok = r.status === c.expect;
      if (ok) pass++;
      rows.push(
        `| ${c.section} | ${c.test} | ${c.expect} | ${r.status} | ${ok ? 'pass' : 'known gap'} | ${(r.reasons[0] ?? '').replace(/\|/g, '/')} |`,
      );
    }
    report.push(
      '# PKITS policy sections 4.8-4.12',
      '',
      `${pass} of ${policy.length} give the PKITS outcome (user-initial-policy-set anyPolicy, no initial inhibits).`,
      '',
      '| section | case | expected | got | result | first reason |',
      '|---|---|---|---|---|---|',
      ...rows,
    );
    expect(policy.length).toBe(51);
  });
  for (const c of suite.cases.filter((c) => POLICY.has(section(c)))) {
    it(`${c.section} ${c.test} -> ${c.expect}`, async () => {
      const r = await run(c);
      expect({ status: r.status, reasons: r.reasons }).toMatchObject({ status: c.expect });
      if (!r.valid) expect(r.problem).toBe(expectedProblem(c.why ?? ''));
    });
  }
});

/**
 * PKITS 4.13 (name constraints) is not in cases.json; its end-entity files say their outcome in
 * their names (Valid.../Invalid...). Each runs with every name-constraints CA of PKITS as a
 * possible intermediate, so the path builder has to find the right one among many.
 */
describe('NIST PKITS 4.13 name constraints (outcome from the file names)', () => {
  const files = readdirSync(join(ROOT, 'certs'));
  const cas = files.filter((f) => /^nameConstraints.*Cert\.crt$/.test(f)).map(cert);
  const crls = [
    ...readdirSync(join(ROOT, 'crls')).filter((f) => f.startsWith('nameConstraints')),
    'TrustAnchorRootCRL.crl',
  ].map(crl);
  const ees = files.filter((f) => /^(Valid|Invalid)\w*nameConstraintsTest\d+EE\.crt$/.test(f));
  it('has the 38 end entities of 4.13', () => expect(ees.length).toBe(38));
  for (const ee of ees) {
    const valid = ee.startsWith('Valid');
    it(`${ee} -> ${valid ? 'valid' : 'invalid (name constraints)'}`, async () => {
      const r = await validatePath({
        target: cert(ee),
        intermediates: cas,
        trustAnchors: [cert('TrustAnchorRootCertificate.crt')],
        crls,
        time,
        revocation: 'require',
      });
      expect({ valid: r.valid, reasons: r.reasons }).toMatchObject({ valid });
      if (!valid) expect(r.problem).toBe('name-constraints');
    });
  }
});
