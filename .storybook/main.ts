// Storybook for the Sidian elements (`npm run storybook`, `npm run storybook:build`).
// pdf.js's worker and data files are served from our own static files, as on a department's site.
import type { StorybookConfig } from '@storybook/web-components-vite';
// @ts-expect-error a plain ES module script without types
import { glyphOutlinesVitePlugin } from '../scripts/glyph-outlines.mjs';

const pdfjs = (dir: string) => ({ from: `../node_modules/pdfjs-dist/${dir}`, to: `/pdfjs/${dir}` });

const config: StorybookConfig = {
  framework: { name: '@storybook/web-components-vite', options: {} },
  stories: ['../stories/**/*.stories.ts'],
  // docs pages per element (autodocs): description, attributes, properties, events, parts and CSS
  // custom properties from the Custom Elements Manifest, with live controls
  addons: ['@storybook/addon-docs'],
  staticDirs: [pdfjs('build'), pdfjs('cmaps'), pdfjs('standard_fonts'), pdfjs('wasm'), pdfjs('iccs')],
  // the outlines the seal and typed-name text are drawn from, at ./glyphs/ (preview.ts points the elements there)
  viteFinal: (vite) => ({ ...vite, plugins: [...(vite.plugins ?? []), glyphOutlinesVitePlugin()] }),
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
};

export default config;
