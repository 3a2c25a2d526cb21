import { html } from 'lit';
import { ref } from 'lit/directives/ref.js';
import type { Meta, StoryObj } from '@storybook/web-components-vite';
import '../packages/elements/src/seal-placer/define';
import type { SealPlacer } from '../packages/elements/src/seal-placer/define';
import { sealPng } from '../packages/elements/src/seal-placer/seal-image';
import { demoSealSigner, samplePdf, stalledSigner } from './support/demo';

interface Args {
  mode: 'single' | 'every-page' | 'seam';
  lang: string;
  sealSize: number;
  reason: string;
  location: string;
  disabled: boolean;
  required: boolean;
  department: string;
  purpose: string;
  code: string;
}

type Setup = (el: SealPlacer) => Promise<void>;

/** Renders the element and prepares it (document, seal image, signer, actions) after it connects. */
function render(args: Args, setup?: Setup) {
  const ready = async (el: SealPlacer) => {
    el.sealImage = await sealPng({ name: args.department, purpose: args.purpose, code: args.code });
    if (setup) await setup(el);
  };
  const once = (el?: Element) => {
    if (el && !(el as SealPlacer & { _storySetup?: boolean })._storySetup) {
      (el as SealPlacer & { _storySetup?: boolean })._storySetup = true;
      void ready(el as SealPlacer);
    }
  };
  return html`<seal-placer
    mode=${args.mode}
    lang=${args.lang}
    seal-size=${args.sealSize}
    reason=${args.reason}
    location=${args.location}
    ?disabled=${args.disabled}
    ?required=${args.required}
    style="--sidian-viewer-height: 560px; max-width: 760px"
    ${ref(once)}
  ></seal-placer>`;
}

const loadDocument = (pages = 3): Setup => async (el) => {
  el.document = samplePdf(pages);
  await new Promise<void>((resolve) => {
    const check = () => (el.state === 'loaded' || el.state === 'error' ? resolve() : setTimeout(check, 30));
    check();
  });
};

const meta: Meta<Args> = {
  title: 'Elements/seal-placer',
  tags: ['autodocs'],
  component: 'seal-placer',
  argTypes: {
    mode: { control: 'inline-radio', options: ['single', 'every-page', 'seam'] },
    lang: { control: 'inline-radio', options: ['zh-CN', 'en'] },
    sealSize: { control: { type: 'number', min: 20, max: 60, step: 1 }, description: 'seal diameter in mm' },
  },
  args: {
    mode: 'single',
    lang: 'zh-CN',
    sealSize: 42,
    reason: '同意',
    location: '四电市',
    disabled: false,
    required: false,
    department: '四电市数据管理局',
    purpose: '合同专用章',
    code: '3301000012345',
  },
  parameters: {
    docs: {
      description: {
        component:
          'Places a department seal on a PDF (drag, click, arrow keys with Shift for larger steps, PageUp/PageDown, or typed coordinates) and seals it in the browser with a WebCrypto key. `.placements` are in PDF points, origin bottom-left.',
      },
    },
  },
};
export default meta;

type Story = StoryObj<Args>;

export const Empty: Story = { render: (args) => render(args) };

export const Loaded: Story = { render: (args) => render(args, loadDocument()) };

export const Placed: Story = {
  render: (args) =>
    render(args, async (el) => {
      await loadDocument()(el);
      el.place();
    }),
};

export const SeamSeal: Story = {
  name: 'Placed (seam 骑缝章)',
  args: { mode: 'seam' },
  render: (args) =>
    render(args, async (el) => {
      await loadDocument(4)(el);
      el.place();
    }),
};

export const Sealing: Story = {
  render: (args) =>
    render(args, async (el) => {
      await loadDocument()(el);
      el.place();
      el.signer = await stalledSigner();
      void el.seal().catch(() => undefined);
    }),
};

export const Sealed: Story = {
  render: (args) =>
    render(args, async (el) => {
      await loadDocument()(el);
      el.place();
      el.signer = await demoSealSigner();
      await el.seal();
    }),
};

export const Error: Story = {
  name: 'Error (no signer)',
  render: (args) =>
    render(args, async (el) => {
      await loadDocument()(el);
      el.place();
      await el.seal().catch(() => undefined);
    }),
};
