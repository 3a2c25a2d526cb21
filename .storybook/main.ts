// Storybook for the Sidian elements (`npm run storybook`, `npm run storybook:build`).
// pdf.js's worker and data files are served from our own static files, as on a department's site.
import type { StorybookConfig } from '@storybook/web-components-vite';

const pdfjs = (dir: string) => ({ from: `../node_modules/pdfjs-dist/${dir}`, to: `/pdfjs/${dir}` });

const config: StorybookConfig = {
  framework: { name: '@storybook/web-components-vite', options: {} },
  stories: ['../stories/**/*.stories.ts'],
  // docs pages per element (autodocs): description, attributes, properties, events, parts and CSS
  // custom properties from the Custom Elements Manifest, with live controls
  addons: ['@storybook/addon-docs'],
  staticDirs: [pdfjs('build'), pdfjs('cmaps'), pdfjs('standard_fonts'), pdfjs('wasm'), pdfjs('iccs')],
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
};

export default config;
