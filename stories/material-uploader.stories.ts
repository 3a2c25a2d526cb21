import { html } from 'lit';
import { ref } from 'lit/directives/ref.js';
import type { Meta, StoryObj } from '@storybook/web-components-vite';
import '../packages/elements/src/material-uploader/define';
import type { MaterialRequirement, MaterialUploader } from '../packages/elements/src/material-uploader/define';
import { samplePdf } from './support/demo';

interface Args {
  lang: string;
  endpoint: string;
  photosToPdf: boolean;
  manual: boolean;
}

const REQUIREMENTS: MaterialRequirement[] = [
  { id: 'business-licence', name: '营业执照', required: true, accept: 'pdf,ofd', maxSize: 20 * 1024 * 1024, licenceTypes: ['11100000MB0143028K'] },
  { id: 'id-card', name: '法定代表人身份证', required: true, accept: 'pdf,image/*', maxSize: 5 * 1024 * 1024, photosToPdf: true },
  { id: 'commitment', name: '承诺书', required: true, accept: 'pdf', sign: true },
  { id: 'other', name: '其他材料', accept: 'pdf', multiple: true },
];

type Setup = (el: MaterialUploader) => Promise<void>;

/**
 * With a server (`npx sidian serve --dev` with this Storybook's origin among the CORS origins), the story
 * takes a development token and uploads for real; without one, checks and hashing still run.
 */
function render(args: Args, setup?: Setup) {
  const once = (el?: Element) => {
    const u = el as (MaterialUploader & { _story?: boolean }) | undefined;
    if (!u || u._story) return;
    u._story = true;
    u.requirements = REQUIREMENTS;
    void (async () => {
      try {
        const base = args.endpoint.replace(/\/api\/materials\/?$/, '');
        const r = await fetch(`${base}/api/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '张三', idNumber: '110101199003074477' }) });
        if (r.ok) u.token = ((await r.json()) as { token: string }).token;
      } catch {
        /* no server: uploads will fail with a clear message */
      }
      if (setup) await setup(u);
    })();
  };
  return html`<material-uploader
    name="materials"
    lang=${args.lang}
    endpoint=${args.endpoint}
    ?photos-to-pdf=${args.photosToPdf}
    ?manual=${args.manual}
    style="max-width: 760px"
    ${ref(once)}
  ></material-uploader>`;
}

const meta: Meta<Args> = {
  title: 'Elements/material-uploader',
  tags: ['autodocs'],
  component: 'material-uploader',
  argTypes: { lang: { control: 'inline-radio', options: ['zh-CN', 'en'] } },
  args: { lang: 'zh-CN', endpoint: 'http://127.0.0.1:8080/api/materials', photosToPdf: false, manual: false },
  parameters: {
    docs: {
      description: {
        component:
          'The checklist of an application: drop, pick or paste files per item; each is checked by its bytes, hashed (SHA-256) in a worker, and uploaded resumably (tus) — or instantly when the server already has it. Items with `sign: true` are signed with `.signer`; items with `licenceTypes` offer the holder\u2019s licences from the registry.',
      },
    },
  },
};
export default meta;

type Story = StoryObj<Args>;

export const Checklist: Story = { render: (args) => render(args) };

export const Rejected: Story = {
  name: 'Rejected (a renamed executable)',
  render: (args) =>
    render(args, async (el) => {
      const exe = new Uint8Array(2048);
      exe.set([0x4d, 0x5a, 0x90, 0x00]);
      await el.addFiles([new File([exe], 'setup.pdf', { type: 'application/pdf' })], 'business-licence');
    }),
};

export const Manual: Story = {
  name: 'Checked and hashed, waiting for upload()',
  args: { manual: true },
  render: (args) =>
    render(args, async (el) => {
      await el.addFiles([new File([samplePdf(2) as Uint8Array<ArrayBuffer>], '营业执照.pdf', { type: 'application/pdf' })], 'business-licence');
    }),
};
