import { html } from 'lit';
import { ref } from 'lit/directives/ref.js';
import type { Meta, StoryObj } from '@storybook/web-components-vite';
import '../packages/elements/src/signature-pad/define';
import type { InkStroke, SignaturePad } from '../packages/elements/src/signature-pad/define';
import { demoSealSigner, samplePdf, stalledSigner } from './support/demo';

interface Args {
  mode: 'draw' | 'type';
  lang: string;
  penColor: string;
  minWidth: number;
  maxWidth: number;
  disabled: boolean;
  required: boolean;
  withDocument: boolean;
}

type Setup = (el: SignaturePad) => Promise<void>;

function render(args: Args, setup?: Setup) {
  const once = (el?: Element) => {
    const e = el as (SignaturePad & { _storySetup?: boolean }) | undefined;
    if (!e || e._storySetup) return;
    e._storySetup = true;
    if (args.withDocument) {
      e.document = samplePdf(1, 'Sidian demo: application form');
      e.placement = { page: 1, x: 330, y: 130, width: 200, height: 70 };
    }
    if (setup) void e.updateComplete.then(() => setup(e));
  };
  return html`<signature-pad
    mode=${args.mode}
    lang=${args.lang}
    pen-color=${args.penColor}
    min-width=${args.minWidth}
    max-width=${args.maxWidth}
    ?disabled=${args.disabled}
    ?required=${args.required}
    style="max-width: 560px"
    ${ref(once)}
  ></signature-pad>`;
}

/** A demo handwriting: a few loops, timed as if written at a steady pace. */
function demoStrokes(): InkStroke[] {
  const t0 = Date.now() - 5000;
  const points = Array.from({ length: 120 }, (_, i) => {
    const a = i / 8;
    return { x: 40 + i * 3.2 + 14 * Math.cos(a * 2), y: 100 - 28 * Math.sin(a) - 10 * Math.sin(a * 2), t: t0 + i * 12, pressure: 0.5 };
  });
  const dash = [0, 1, 2, 3, 4, 5].map((i) => ({ x: 120 + i * 40, y: 150 + (i % 2) * 2, t: t0 + 2000 + i * 25, pressure: 0.5 }));
  return [
    { pointerType: 'mouse', points },
    { pointerType: 'mouse', points: dash },
  ];
}

const drawn: Setup = async (el) => {
  el.strokeBox = { width: 520, height: 200 };
  el.strokes = demoStrokes();
};

const meta: Meta<Args> = {
  title: 'Elements/signature-pad',
  tags: ['autodocs'],
  component: 'signature-pad',
  argTypes: {
    mode: { control: 'inline-radio', options: ['draw', 'type'] },
    lang: { control: 'inline-radio', options: ['zh-CN', 'en'] },
    penColor: { control: 'color' },
    minWidth: { control: { type: 'range', min: 0.2, max: 4, step: 0.1 } },
    maxWidth: { control: { type: 'range', min: 1, max: 10, step: 0.1 } },
  },
  args: { mode: 'draw', lang: 'zh-CN', penColor: '#101a5c', minWidth: 0.8, maxWidth: 3.2, disabled: false, required: false, withDocument: false },
  parameters: {
    docs: {
      description: {
        component:
          'Draw (mouse, touch, pen with pressure) or type a signature; export PNG, SVG and stroke data; with a PDF and a signer, `sign()` puts the handwriting into a signature field and signs.',
      },
    },
  },
};
export default meta;

type Story = StoryObj<Args>;

export const Empty: Story = { render: (args) => render(args) };

export const Loaded: Story = { name: 'Loaded (with a document)', args: { withDocument: true }, render: (args) => render(args) };

export const Drawn: Story = { name: 'Placed (drawn)', render: (args) => render(args, drawn) };

export const Typed: Story = {
  args: { mode: 'type' },
  render: (args) =>
    render(args, async (el) => {
      el.typedName = '张三';
    }),
};

export const Signing: Story = {
  args: { withDocument: true },
  render: (args) =>
    render(args, async (el) => {
      await drawn(el);
      el.signer = await stalledSigner();
      void el.sign().catch(() => undefined);
    }),
};

export const Signed: Story = {
  name: 'Sealed (signed)',
  args: { withDocument: true },
  render: (args) =>
    render(args, async (el) => {
      await drawn(el);
      el.signer = await demoSealSigner();
      await el.sign();
    }),
};

export const Error: Story = {
  name: 'Error (empty pad)',
  args: { withDocument: true },
  render: (args) =>
    render(args, async (el) => {
      el.signer = await demoSealSigner();
      await el.sign().catch(() => undefined);
    }),
};
