import type { Preview } from '@storybook/web-components-vite';
import { configurePdf } from '../packages/elements/src/shared/pdf-view';

// the worker and data files come from staticDirs (see main.ts), relative to the preview page
configurePdf({ pdfjsBase: new URL('./pdfjs/', document.baseURI).href });

const preview: Preview = {
  parameters: {
    controls: { expanded: true },
    layout: 'padded',
  },
};

export default preview;
