import { executeServerCommand, sendKeys, setViewport } from '@web/test-runner-commands';
import { expect } from '../test-support/expect';
import { afterEach, before, describe, it } from '../test-support/mocha';
import { axeViolations, cleanup, fixture, loadFixturePdf, until } from '../test-support/helpers';
import './define';
import type { LicenceViewer, VerifiedDetail } from './licence-viewer';

interface ServerInfo {
  url: string;
  apiKey: string;
  trustPem: string;
}
interface MadeLicence {
  pdf: string;
  id: string;
  sha256: string;
}

let server: ServerInfo;
const fromB64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
let serial = 100_000 + Math.floor(Math.random() * 800_000);

function licence(options: Record<string, unknown> = {}): Promise<MadeLicence> {
  return executeServerCommand<MadeLicence, Record<string, unknown>>('sidian-licence', { serial: String(serial++), ...options });
}

async function noAxeViolations(el: Element, what: string) {
  const v = await axeViolations(el);
  if (v.length) throw new Error(`axe (${what}): ${v.join('\n')}`);
}

/** A viewer on a registered licence, through the real server: document, trust anchors and registry. */
async function viewer(id: string, attrs = ''): Promise<{ el: LicenceViewer; detail: () => VerifiedDetail | undefined }> {
  const file = `${server.url}/api/licences/${encodeURIComponent(id)}/file`;
  const host = document.createElement('div');
  host.innerHTML = `<licence-viewer style="width:900px;--sidian-viewer-height:700px" src="${file}" trust="${server.url}/api/trust" status-url="${server.url}/api/licences/" ${attrs}></licence-viewer>`;
  const el = host.firstElementChild as LicenceViewer;
  let detail: VerifiedDetail | undefined;
  host.addEventListener('verified', (e) => (detail = (e as CustomEvent<VerifiedDetail>).detail));
  document.body.append(host);
  await until(() => el.state === 'verified' || el.state === 'error', 'verified', 30_000);
  await el.verified();
  return { el, detail: () => detail };
}

const banner = (el: LicenceViewer) => el.shadowRoot!.querySelector<HTMLElement>('[part~=banner]')!;

describe('<licence-viewer>', () => {
  before(async () => {
    await setViewport({ width: 1100, height: 900 });
    server = await executeServerCommand<ServerInfo, Record<string, never>>('sidian-server', {});
  });
  afterEach(cleanup);

  it('empty: says so, no axe violations', async () => {
    const el = await fixture<LicenceViewer>('<licence-viewer></licence-viewer>');
    expect(el.state).toBe('empty');
    expect(banner(el).textContent).toContain('尚未载入证照');
    await noAxeViolations(el, 'empty');
  });

  it('valid: a sealed, registered licence — banner, fields, identifier check, seal mark, event report', async () => {
    const made = await licence({ register: true });
    const { el, detail } = await viewer(made.id);
    expect(el.verdict).toBe('valid');
    expect(banner(el).textContent).toContain('证照有效');
    expect(banner(el).getAttribute('role')).toBe('status');
    const d = detail()!;
    expect(d.verdict).toBe('valid');
    expect(d.report.status).toBe('valid');
    // the registry keeps it long-term: the seal (B-B), a document time-stamp, the DSS, the archive time-stamp
    expect(d.report.signatures.map((s) => s.kind)).toEqual(['certification', 'document-timestamp', 'document-timestamp']);
    expect(d.report.signatures[0]!.level).toBe('B-LTA');
    expect(d.registry!.status).toBe('valid');
    expect(d.licence!.identifierValid).toBe(true);
    expect(d.licence!.metadata.identifier).toBe(made.id);
    expect(el.report).toBe(d.report);
    const details = el.shadowRoot!.querySelector('[part=details]')!.textContent!;
    expect(details).toContain('食品经营许可证');
    expect(details).toContain(d.licence!.metadata.number);
    expect(details).toContain('校验位正确');
    expect(details).toContain('项城市市场监督管理局');
    expect(details).toContain('可信');
    // no jargon where a citizen reads: PAdES level, DocMDP and field name only behind 技术详情
    const panel0 = el.shadowRoot!.querySelector<HTMLElement>('#signature-0')!;
    const technical = panel0.querySelector<HTMLDetailsElement>('details[part~=technical]')!;
    expect(technical.open).toBe(false);
    expect(technical.querySelector('summary')!.textContent).toBe('技术详情');
    const visible = [...panel0.childNodes]
      .filter((n) => n !== technical)
      .map((n) => n.textContent)
      .join(' ');
    expect(visible).not.toMatch(/B-(B|T|LT|LTA)\b|DocMDP|P=\d|seal-\d/);
    expect(visible).toContain('长期存档');
    expect(visible).toContain('签名 1（项城市市场监督管理局）');
    expect(technical.textContent).toContain('PAdES B-LTA');
    expect(technical.textContent).toContain(d.report.signatures[0]!.field);
    if (d.report.signatures[0]!.docMdp) {
      expect(technical.textContent).toContain(`DocMDP P=${d.report.signatures[0]!.docMdp}`);
      expect(visible).toContain('发证后');
    }
    // the mark sits on the seal's widget rectangle of page 1
    const mark = el.shadowRoot!.querySelector<HTMLElement>('.pdf-page[data-index="0"] [part~=mark]')!;
    expect(mark.getAttribute('part')).toContain('mark-valid');
    const page = el.shadowRoot!.querySelector<HTMLElement>('.pdf-page[data-index="0"]')!.getBoundingClientRect();
    const r = mark.getBoundingClientRect();
    const w = d.report.signatures[0]!.widgets![0]!;
    const pageWidthPt = 612; // five-pages fixture: US Letter
    expect(r.width).toBeCloseTo(((w.rect[2] - w.rect[0]) / pageWidthPt) * page.width, 1.5);
    expect(r.left - page.left).toBeCloseTo((w.rect[0] / pageWidthPt) * page.width, 1.5);
    await noAxeViolations(el, 'valid');
    // keyboard: the mark is a button; Enter takes focus to that signature's panel
    mark.focus();
    await sendKeys({ press: 'Enter' });
    expect(el.shadowRoot!.activeElement?.id).toBe('signature-0');
    // the signing time in Beijing time, as the browser's Intl writes it, in both languages
    const claimed = new Date(d.report.signatures[0]!.claimedTime!);
    const panel = () => el.shadowRoot!.querySelector('#signature-0')!.textContent!;
    expect(panel()).toContain(claimed.toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }));
    el.lang = 'en';
    await el.updateComplete;
    const en = new Intl.DateTimeFormat('en-GB', {
      ...{ day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' },
      ...{ hourCycle: 'h23', timeZone: 'Asia/Shanghai' },
    } as const).format(claimed);
    expect(panel()).toContain(`${en} GMT+8`);
  });

  it('invalid: a licence changed after sealing', async () => {
    const made = await licence({ register: true, tamper: true });
    // the registry keeps the genuine file: show the tampered copy the citizen handed in
    const el = await fixture<LicenceViewer>(`<licence-viewer style="width:900px" trust="${server.url}/api/trust" status-url="${server.url}/api/licences/"></licence-viewer>`);
    let detail: VerifiedDetail | undefined;
    el.addEventListener('verified', (e) => (detail = e.detail));
    el.document = fromB64(made.pdf);
    await el.verified();
    expect(el.verdict).toBe('invalid');
    expect(banner(el).textContent).toContain('证照无效');
    expect(detail!.verdict).toBe('invalid');
    expect(detail!.report.status).toBe('invalid');
    expect(detail!.report.signatures[0]!.integrity).toBe('digest-mismatch');
    expect(el.shadowRoot!.querySelector('[part~=mark]')!.getAttribute('part')).toContain('mark-invalid');
    await noAxeViolations(el, 'invalid');
  });

  it('indeterminate: sealed with a certificate the trust anchors do not cover', async () => {
    const made = await licence({ signer: 'untrusted' });
    const el = await fixture<LicenceViewer>(`<licence-viewer style="width:900px" trust="${server.url}/api/trust"></licence-viewer>`);
    let detail: VerifiedDetail | undefined;
    el.addEventListener('verified', (e) => (detail = e.detail));
    el.document = fromB64(made.pdf);
    await el.verified();
    expect(el.verdict).toBe('indeterminate');
    expect(banner(el).textContent).toContain('无法确认证照');
    expect(detail!.report.status).toBe('indeterminate');
    expect(detail!.report.signatures[0]!.trust).toBe('untrusted');
    expect(el.shadowRoot!.querySelector('[part=details]')!.textContent).toContain('颁发机构不可信');
    await noAxeViolations(el, 'indeterminate');
  });

  it('forged authority: a "bureau" certificate a citizen issued with their own certificate is not trusted, and the viewer says why', async () => {
    const made = await licence({ signer: 'forged' });
    const el = await fixture<LicenceViewer>(`<licence-viewer style="width:900px" trust="${server.url}/api/trust"></licence-viewer>`);
    el.document = fromB64(made.pdf);
    await el.verified();
    expect(el.verdict).toBe('indeterminate');
    expect(el.report!.signatures[0]!.trust).toBe('untrusted');
    expect(el.report!.signatures[0]!.reasons.join(' ')).toMatch(/is not a CA \(basicConstraints/);
    const details = el.shadowRoot!.querySelector('[part=details]')!.textContent!;
    expect(details).toContain('颁发机构不可信');
    expect(details).toMatch(/is not a CA \(basicConstraints/);
  });

  it('revoked: the registry says so, although the seal verifies', async () => {
    const made = await licence({ register: true, revoke: true });
    const { el, detail } = await viewer(made.id);
    expect(el.verdict).toBe('revoked');
    expect(banner(el).textContent).toContain('证照已吊销');
    expect(banner(el).textContent).toContain('测试吊销');
    const d = detail()!;
    expect(d.verdict).toBe('revoked');
    expect(d.registry!.status).toBe('revoked');
    expect(d.report.status).toBe('valid');
    await noAxeViolations(el, 'revoked');
  });

  it('注销 is not 吊销: cancelled, revoked (with its reason), suspended and expired each in their own words, zh-CN and English', async () => {
    const cancelled = await viewer(
      (await licence({ register: true, revoke: 'cancelled', revokeReason: '持证人申请注销' })).id,
    );
    expect(cancelled.el.verdict).toBe('cancelled');
    expect(cancelled.detail()!.registry!.status).toBe('cancelled');
    expect(banner(cancelled.el).textContent).toContain('证照已注销');
    expect(banner(cancelled.el).textContent).toContain('注销时间');
    expect(banner(cancelled.el).textContent).toContain('持证人申请注销');
    expect(cancelled.el.shadowRoot!.textContent).not.toContain('吊销');
    expect(cancelled.el.shadowRoot!.querySelector('[part=licence]')!.textContent).toContain('已注销');
    cancelled.el.lang = 'en';
    await cancelled.el.updateComplete;
    expect(banner(cancelled.el).textContent).toContain('Licence cancelled');
    expect(banner(cancelled.el).textContent).not.toMatch(/revoked/i);
    await noAxeViolations(cancelled.el, 'cancelled');
    cleanup();

    const revoked = await viewer(
      (await licence({ register: true, revoke: 'revoked', revokeReason: '违法经营，依法吊销' })).id,
      'lang="en"',
    );
    expect(revoked.el.verdict).toBe('revoked');
    expect(banner(revoked.el).textContent).toContain('Licence revoked');
    expect(banner(revoked.el).textContent).toContain('reason: 违法经营，依法吊销');
    revoked.el.lang = 'zh-CN';
    await revoked.el.updateComplete;
    expect(banner(revoked.el).textContent).toContain('证照已吊销');
    expect(banner(revoked.el).textContent).toContain('吊销时间');
    cleanup();

    const suspended = await viewer(
      (await licence({ register: true, revoke: 'suspended', revokeReason: '暂扣，待处理' })).id,
    );
    expect(suspended.el.verdict).toBe('suspended');
    expect(banner(suspended.el).textContent).toContain('证照已中止');
    expect(banner(suspended.el).textContent).toContain('暂扣，待处理');
    expect(banner(suspended.el).className).toContain('banner-suspended');
    suspended.el.lang = 'en';
    await suspended.el.updateComplete;
    expect(banner(suspended.el).textContent).toContain('Licence suspended');
    cleanup();

    const expired = await viewer(
      (await licence({ register: true, validFrom: '2020-01-01', validUntil: '2021-01-01' })).id,
    );
    expect(expired.el.verdict).toBe('expired');
    expect(banner(expired.el).textContent).toContain('证照已过期');
    expect(expired.el.shadowRoot!.querySelector('[part=licence]')!.textContent).toContain('已过期');
  });

  it('a seal whose certificate the server revoked: revoked through trust="/api/trust" (its current CRL)', async () => {
    const check = async (made: MadeLicence) => {
      const el = await fixture<LicenceViewer>(`<licence-viewer style="width:900px" trust="${server.url}/api/trust"></licence-viewer>`);
      let detail: VerifiedDetail | undefined;
      el.addEventListener('verified', (e) => (detail = e.detail));
      el.document = fromB64(made.pdf);
      await el.verified();
      return { el, detail: detail! };
    };
    const kept = await check(await licence({ signer: 'enrolled' }));
    expect(kept.detail.report.signatures[0]!.trust).toBe('trusted');
    const revoked = await check(await licence({ signer: 'enrolled', revokeCertificate: true }));
    expect(revoked.detail.report.signatures[0]!.trust).toBe('revoked');
    expect(revoked.detail.report.status).toMatch(/^(invalid|indeterminate)$/);
    expect(revoked.el.verdict).toMatch(/^(invalid|indeterminate)$/);
    expect(revoked.el.shadowRoot!.querySelector('[part=details]')!.textContent).toMatch(/吊销|revoked/);
  });

  it('unsigned: a PDF without seals', async () => {
    const el = await fixture<LicenceViewer>('<licence-viewer style="width:900px"></licence-viewer>');
    el.document = await loadFixturePdf('five-pages');
    await el.verified();
    expect(el.verdict).toBe('unsigned');
    expect(banner(el).textContent).toContain('证照未盖章');
    expect(el.shadowRoot!.querySelector('[part=details]')!.textContent).toContain('没有证照元数据');
  });

  it('offline: trust anchors as a property, no network at all', async () => {
    const made = await licence();
    const realFetch = window.fetch;
    let fetches = 0;
    window.fetch = (() => {
      fetches++;
      return Promise.reject(new TypeError('offline'));
    }) as typeof fetch;
    try {
      const el = await fixture<LicenceViewer>('<licence-viewer style="width:900px"></licence-viewer>');
      el.trustAnchors = [server.trustPem];
      el.document = fromB64(made.pdf);
      await el.verified();
      expect(el.verdict).toBe('valid');
      expect(fetches).toBe(0);
    } finally {
      window.fetch = realFetch;
    }
  });

  it('English, watermark on every page, theming', async () => {
    const made = await licence({ register: true });
    const { el } = await viewer(made.id, 'lang="en" watermark="仅供办理食品经营许可变更使用"');
    expect(banner(el).textContent).toContain('Licence valid');
    expect(banner(el).textContent).toContain('Watermark: 仅供办理食品经营许可变更使用');
    expect(el.shadowRoot!.querySelector('[part=details]')!.textContent).toContain('check character correct');
    const marks = el.shadowRoot!.querySelectorAll('[part=watermark]');
    expect(marks.length).toBe(5);
    expect(marks[4]!.textContent).toContain('仅供办理食品经营许可变更使用');
    expect(marks[0]!.getAttribute('aria-hidden')).toBe('true');
    el.style.setProperty('--sidian-color-success', 'rgb(1, 2, 3)');
    expect(getComputedStyle(banner(el)).borderTopColor).toBe('rgb(1, 2, 3)');
    await noAxeViolations(el, 'english');
    el.lang = 'zh-CN';
    await el.updateComplete;
    expect(banner(el).textContent).toContain('证照有效');
  });

  it('a file that is not a PDF: a clear error', async () => {
    const el = await fixture<LicenceViewer>('<licence-viewer></licence-viewer>');
    el.document = new TextEncoder().encode('MZ\x90\x00 not a pdf');
    await until(() => el.state === 'error', 'error');
    await el.updateComplete;
    expect(banner(el).textContent).toContain('文件不是 PDF 文档');
    await noAxeViolations(el, 'error');
  });
});
