/**
 * <licence-viewer seal-status-url>: the registry's word on a GB/T 38540 seal (issue 17, "a revoked
 * seal fails verification from then on"), through the real server. A seal made by the server's seal
 * authority (POST /api/seals) seals a PDF with SM2; the viewer shows it valid while it is registered
 * and invalid (印章已注销, when, why) once its department revokes it. A registry that does not know
 * the seal (404), that describes another seal, or that cannot be reached never lets it show valid.
 * Without the attribute the viewer stays offline: DevTools and the dev server log no request.
 */
import { executeServerCommand } from '@web/test-runner-commands';
import { expect } from '../test-support/expect';
import { afterEach, before, describe, it } from '../test-support/mocha';
import { cleanup, fixture, sleep } from '../test-support/helpers';
import './define';
import type { LicenceViewer, VerifiedDetail } from './licence-viewer';

interface Sealed {
  pdf: Uint8Array;
  esID: string;
  /** base64 DER of the SESeal */
  seal: string;
  /** The server's anchors for PDF signers (/api/trust) */
  trustPem: string;
  /** Its seal authority's root (/api/seals/trust) */
  makerPem: string;
}

type Lang = 'zh-CN' | 'en';

const fromB64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const network = (p: { reset?: boolean } = {}) =>
  executeServerCommand<{ requests: string[] }, typeof p>('sidian-network', p);

async function gbSealed(name: string): Promise<Sealed> {
  const r = await executeServerCommand<
    { pdf: string; esID: string; seal: string; trustPem: string; makerPem: string },
    { name: string }
  >('sidian-gb-sealed', { name });
  return { ...r, pdf: fromB64(r.pdf) };
}

const revoke = (esID: string, reason: string, otherDepartment = false) =>
  executeServerCommand<{ status: number; body: { error?: string; revokedAt?: string } }, object>(
    'sidian-seal-revoke',
    {
      esID,
      reason,
      otherDepartment,
    },
  );

let server: { url: string };

/**
 * A new viewer on `sealed`'s PDF, verified. The signers' anchors are given as text (no request); the
 * seal makers' are `makerAnchors` when given (a URL: fetched), else fetched from the server's `/api/seals/trust` when
 * the registry is asked, else given as text (offline).
 */
async function view(sealed: Sealed, lang: Lang, sealStatusUrl?: string, makerAnchors?: string[] | URL) {
  const el = await fixture<LicenceViewer>(
    `<licence-viewer lang="${lang}" style="width:900px"></licence-viewer>`,
  );
  let detail: VerifiedDetail | undefined;
  el.addEventListener('verified', (e) => (detail = e.detail));
  if (sealStatusUrl) el.sealStatusUrl = sealStatusUrl;
  if (makerAnchors instanceof URL) el.sealTrust = makerAnchors.href;
  else if (makerAnchors) el.sealTrustAnchors = makerAnchors;
  else if (sealStatusUrl) el.sealTrust = `${server.url}/api/seals/trust`;
  else el.sealTrustAnchors = [sealed.makerPem];
  el.trustAnchors = [sealed.trustPem];
  el.document = sealed.pdf;
  const report = (await el.verified())!;
  await el.updateComplete;
  const root = el.shadowRoot!;
  return {
    el,
    report,
    detail: detail!,
    banner: root.querySelector<HTMLElement>('[part~=banner]')!.textContent!.replace(/\s+/g, ' '),
    sealVerdict: root.querySelector<HTMLElement>('[part=gb-seal-verdict]')!.textContent!,
    problems: root.querySelector<HTMLElement>('[part=gb-seal-problems]')?.textContent ?? '',
  };
}

/** The viewer's words, in each language it speaks, where the registry gives no word on a seal. */
const WORDS: Record<
  Lang,
  { unknown: string; unknownVerdict: string; unreachable: string; unreachableProblem: string }
> = {
  'zh-CN': {
    unknown: '印章登记库中没有此印章（项城市市场监督管理局业务专用章），无法确认印章有效。',
    unknownVerdict: '无法确认',
    unreachable: '无法查询印章登记库，未能确认印章（项城市市场监督管理局业务专用章）是否已注销。',
    unreachableProblem: '无法查询印章登记状态',
  },
  en: {
    unknown:
      'The seal registry does not know this seal (项城市市场监督管理局业务专用章): the seal cannot be confirmed.',
    unknownVerdict: 'cannot be established',
    unreachable:
      'The seal registry could not be reached: whether the seal (项城市市场监督管理局业务专用章) was revoked is not confirmed.',
    unreachableProblem: 'could not be asked',
  },
};

/**
 * One new viewer per language of WORDS on `sealed`'s PDF, asking `sealStatusUrl`, checked by
 * `check` with that language's words.
 */
async function inEachLanguage(
  sealed: Sealed,
  sealStatusUrl: string,
  check: (v: Awaited<ReturnType<typeof view>>, words: (typeof WORDS)[Lang]) => void,
) {
  for (const lang of Object.keys(WORDS) as Lang[]) {
    check(await view(sealed, lang, sealStatusUrl), WORDS[lang]);
    cleanup();
  }
}

describe('<licence-viewer seal-status-url>: the seal registry (GB/T 38540)', () => {
  let sealed: Sealed; // revoked in the course of these tests
  let other: Sealed; // stays registered and good
  const REASON = '印章遗失，已登报声明作废';

  before(async () => {
    server = await executeServerCommand<{ url: string }, object>('sidian-server', {});
    sealed = await gbSealed('项城市市场监督管理局电子公章');
    other = await gbSealed('项城市市场监督管理局业务专用章');
    expect(sealed.esID === other.esID).toBe(false);
  });
  afterEach(cleanup);

  it('without seal-status-url: verified offline (no request at all), valid', async () => {
    await view(sealed, 'zh-CN'); // the modules and workers load once; then every request is logged
    await sleep(1500); // modules the first view imports late (the seal picture's PNG decoder)
    cleanup();
    await network({ reset: true });
    const v = await view(sealed, 'zh-CN');
    expect(v.report.status).toBe('valid');
    expect(v.sealVerdict).toBe('有效');
    expect(v.detail.seals).toEqual({});
    expect((await network()).requests).toEqual([]);
  });

  it('with it: the worker asks the real server for each seal (esID appended) and a registered seal shows valid', async () => {
    await network({ reset: true });
    const v = await view(sealed, 'zh-CN', `${server.url}/api/seals/`);
    expect(v.report.status).toBe('valid');
    expect(v.el.verdict).toBe('valid');
    expect(v.sealVerdict).toBe('有效');
    expect(v.el.sealRegistry).toEqual({ [sealed.esID]: { status: 'good' } });
    expect(v.banner).toContain('证照有效');
    const asked = (await network()).requests.filter((u) => u.includes('/api/seals/')).sort();
    expect(asked).toEqual([`${server.url}/api/seals/${sealed.esID}`, `${server.url}/api/seals/trust`].sort());
  });

  it("attacker: the seal's maker is checked against the seal authority's anchors, not the signers' (a CA's word does not make a seal)", async () => {
    // the SM2 root that certified the department's key, given as the seal makers' anchors
    const v = await view(sealed, 'en', `${server.url}/api/seals/{esID}`, [sealed.trustPem]);
    expect(v.report.status).toBe('invalid');
    expect(v.problems).toContain('the seal maker is not trusted');
  });

  it('attacker: another department cannot revoke the seal (403); it still shows valid', async () => {
    const r = await revoke(sealed.esID, '冒名注销', true);
    expect(r.status).toBe(403);
    expect(r.body.error).toBe('SEAL_OTHER_DEPARTMENT');
    const v = await view(sealed, 'en', `${server.url}/api/seals/{esID}`);
    expect(v.report.status).toBe('valid');
    expect(v.sealVerdict).toBe('valid');
  });

  it('after its department revokes the seal, the same PDF in a new viewer is invalid: 印章已注销, the date and the reason', async () => {
    const r = await revoke(sealed.esID, REASON);
    expect(r.status).toBe(200);
    const revokedAt = r.body.revokedAt!;
    // Beijing time, as the strings write it
    const t = new Date(Date.parse(revokedAt) + 8 * 3_600_000);
    const two = (n: number) => String(n).padStart(2, '0');
    const clock = `${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())}`;
    const zhDate = `${t.getUTCFullYear()}/${t.getUTCMonth() + 1}/${t.getUTCDate()} ${clock}`;
    const enDate = `${two(t.getUTCDate())}/${two(t.getUTCMonth() + 1)}/${t.getUTCFullYear()}, ${clock} GMT+8`;

    const zh = await view(sealed, 'zh-CN', `${server.url}/api/seals/{esID}`);
    expect(zh.report.status).toBe('invalid');
    expect(zh.el.verdict).toBe('invalid');
    expect(zh.report.signatures[0]!.status).toBe('invalid');
    expect(zh.report.signatures[0]!.reasons.some((x) => x.startsWith('SES_SEAL_REVOKED'))).toBe(true);
    expect(zh.detail.seals[sealed.esID]).toEqual({ status: 'revoked', revokedAt, revocationReason: REASON });
    expect(zh.banner).toContain('证照无效');
    expect(zh.banner).toContain(
      `印章已注销：项城市市场监督管理局电子公章；注销时间：${zhDate}；原因：${REASON}`,
    );
    // the seal was not tampered with: the generic "changed or damaged" text is not shown
    expect(zh.banner).not.toContain('篡改');
    expect(zh.sealVerdict).toBe('已注销');
    expect(zh.problems).toContain(REASON);
    expect(zh.el.shadowRoot!.querySelector('[part~=mark]')!.getAttribute('part')).toContain('mark-invalid');
    cleanup();

    const en = await view(sealed, 'en', `${server.url}/api/seals/{esID}`);
    expect(en.report.status).toBe('invalid');
    expect(en.banner).toContain('Licence invalid');
    expect(en.banner).toContain(
      `The seal was revoked: 项城市市场监督管理局电子公章, on ${enDate}; reason: ${REASON}.`,
    );
    expect(en.sealVerdict).toBe('revoked');
    // the other seal of the same department is not touched
    cleanup();
    expect((await view(other, 'en', `${server.url}/api/seals/{esID}`)).report.status).toBe('valid');
  });

  it('a registry that answers 404 for the seal: not valid (cannot be confirmed), with words', async () => {
    // the real server, asked under a code it never issued
    await inEachLanguage(other, `${server.url}/api/seals/unregistered-{esID}`, (v, words) => {
      expect(v.report.status).toBe('indeterminate');
      expect(v.el.verdict).toBe('indeterminate');
      expect(v.detail.seals[other.esID]).toEqual({ status: 'unknown' });
      expect(v.banner).toContain(words.unknown);
      expect(v.sealVerdict).toBe(words.unknownVerdict);
    });
  });

  it('attacker: a registry record of another seal under this code does not vouch for the revoked seal', async () => {
    // "valid", with the DER of the good seal, for whatever code is asked
    const head = encodeURIComponent(`{"status":"valid","seal":"${other.seal}","esID":"`);
    const url = `data:application/json,${head}{esID}${encodeURIComponent('"}')}`;
    const v = await view(sealed, 'en', url);
    expect(v.detail.seals[sealed.esID]).toEqual({ status: 'unknown' });
    expect(v.report.status === 'valid').toBe(false);
    expect(v.el.verdict).toBe('indeterminate');
  });

  it('seal-trust that cannot be fetched: the document still shows, its seal cannot show valid (maker not checked)', async () => {
    const v = await view(
      other,
      'en',
      `${server.url}/api/seals/{esID}`,
      new URL(`${server.url}/api/seals/no-such.pem`),
    );
    expect(v.el.state).toBe('verified');
    expect(v.report.status).toBe('indeterminate');
    expect(v.problems).toContain("the seal maker's certificate was not checked");
  });

  it('the registry cannot be reached: not valid, the banner says the status could not be checked', async () => {
    // a port nothing listens on: the connection is refused
    const { port } = await executeServerCommand<{ port: number }, object>('sidian-closed-port', {});
    await inEachLanguage(other, `http://127.0.0.1:${port}/api/seals/{esID}`, (v, words) => {
      expect(v.report.status).toBe('indeterminate');
      expect(v.detail.seals[other.esID]).toEqual({ status: 'unavailable' });
      expect(v.banner).toContain(words.unreachable);
      expect(v.problems).toContain(words.unreachableProblem);
    });
  });
});
