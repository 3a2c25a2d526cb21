import { html } from 'lit';
import { ref } from 'lit/directives/ref.js';
import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { signPdf } from '@sidian/core';
import { embedLicence, makeLicenceIdentifier, creditCodeCheckChar, type LicenceMetadata } from '../packages/core/src/licence/index';
import '../packages/elements/src/licence-viewer/define';
import type { LicenceViewer } from '../packages/elements/src/licence-viewer/define';
import { sealPng } from '../packages/elements/src/seal-placer/seal-image';
import { demoSealSigner, samplePdf } from './support/demo';

interface Args {
  lang: string;
  watermark: string;
}

const ISSUER = '11411681005598773' + creditCodeCheckChar('11411681005598773');

/** A demo 食品经营许可证 with licence.json, sealed in the browser by the demo department. */
async function demoLicence(o: { tamper?: boolean; validUntil?: string | null } = {}): Promise<{ pdf: Uint8Array; trust: Uint8Array; id: string }> {
  const identifier = makeLicenceIdentifier({ typeCode: '11100000MB0143028K', issuerCode: ISSUER, serial: '000123', version: 1 });
  const licence: LicenceMetadata = {
    version: 1,
    typeName: '食品经营许可证',
    typeCode: '11100000MB0143028K',
    number: 'JY14116810012345',
    identifier,
    holder: { name: '项城市示例餐饮有限公司', idType: '统一社会信用代码', idNumber: '91411681MA0000000' + creditCodeCheckChar('91411681MA0000000') },
    issuer: { name: 'Sidian Demo Department', creditCode: ISSUER },
    issueDate: '2026-01-05',
    validFrom: '2026-01-05',
    validUntil: o.validUntil === undefined ? '2031-01-04' : o.validUntil,
    data: { 经营场所: '项城市莲花大道 1 号', 主体业态: '餐饮服务经营者' },
  };
  const signer = await demoSealSigner();
  const image = await sealPng({ name: 'Sidian Demo Department', purpose: '证照专用章' });
  let pdf = await signPdf(embedLicence(samplePdf(2, 'Food business licence (demo)'), licence), { signer, image, page: 1, certify: 2 });
  if (o.tamper) {
    pdf = pdf.slice();
    const at = new TextDecoder('latin1').decode(pdf).indexOf('"number": "JY1411681001234');
    pdf[at + 26] = 0x39; // one digit of the licence number
  }
  return { pdf, trust: signer.certificate, id: identifier };
}

type Setup = (el: LicenceViewer) => Promise<void>;

function render(args: Args, setup?: Setup) {
  const once = (el?: Element) => {
    const v = el as (LicenceViewer & { _story?: boolean }) | undefined;
    if (v && !v._story && setup) {
      v._story = true;
      void setup(v);
    }
  };
  return html`<licence-viewer
    lang=${args.lang}
    watermark=${args.watermark || ''}
    style="--sidian-viewer-height: 620px; max-width: 1000px"
    ${ref(once)}
  ></licence-viewer>`;
}

const offline =
  (o: Parameters<typeof demoLicence>[0] = {}, anchors = true): Setup =>
  async (el) => {
    const { pdf, trust } = await demoLicence(o);
    el.trustAnchors = anchors ? [trust] : [];
    el.document = pdf;
  };

const meta: Meta<Args> = {
  title: 'Elements/licence-viewer',
  tags: ['autodocs'],
  component: 'licence-viewer',
  argTypes: { lang: { control: 'inline-radio', options: ['zh-CN', 'en'] } },
  args: { lang: 'zh-CN', watermark: '' },
  parameters: {
    docs: {
      description: {
        component:
          'Shows an e-licence and whether it is genuine, current and unchanged: verification in the browser (offline with `.trustAnchors`, or `trust="/api/trust"`), licence.json fields with the identifier check, the registry status with `status-url`, a mark on each seal. These stories seal a demo licence in the browser with a throw-away certificate.',
      },
    },
  },
};
export default meta;

type Story = StoryObj<Args>;

export const Empty: Story = { render: (args) => render(args) };
export const Valid: Story = { render: (args) => render(args, offline()) };
export const Watermarked: Story = { name: 'Valid, with watermark', args: { watermark: '仅供办理食品经营许可变更使用' }, render: (args) => render(args, offline()) };
export const Invalid: Story = { name: 'Invalid (changed after sealing)', render: (args) => render(args, offline({ tamper: true })) };
export const Indeterminate: Story = { name: 'Indeterminate (no trust anchors)', render: (args) => render(args, offline({}, false)) };
export const Expired: Story = { render: (args) => render(args, offline({ validUntil: '2026-01-06' })) };
export const Revoked: Story = {
  name: 'Revoked (registry)',
  render: (args) =>
    render(args, async (el) => {
      // a registry answer as the server gives it, from a data: URL ({id} lands in the fragment)
      const answer = { status: 'revoked', revokedAt: '2026-03-01T08:00:00Z', revocationReason: '申请人主动注销' };
      el.statusUrl = `data:application/json,${encodeURIComponent(JSON.stringify(answer))}#{id}`;
      await offline()(el);
    }),
};
export const Unsigned: Story = {
  render: (args) =>
    render(args, async (el) => {
      el.document = samplePdf(2, 'Unsigned copy');
    }),
};
