// @web/test-runner: the elements' tests in real Chromium (Debian's /usr/bin/chromium, never a
// downloaded browser). `npm run test:browser`; one file: `npm run test:browser -- --files <path>`.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { sidianNodeCommands } from './tests/browser/node-commands.mjs';
import { sidianServerCommands } from './tests/browser/server-commands.mjs';
import { CHROMIUM_FLAGS } from './tests/browser/chromium-flags.mjs';
import { cachedGlyphBlocks } from './scripts/glyph-outlines.mjs';

/** The glyph outline files (scripts/glyph-outlines.mjs) where the elements' sources look for them, made on first request. */
function glyphOutlines() {
  return {
    name: 'sidian-glyph-outlines',
    serve(context) {
      const m = /^\/packages\/elements\/src\/shared\/glyphs\/([0-9a-f]+|index)\.json$/.exec(context.path);
      if (!m) return undefined;
      const body = cachedGlyphBlocks().get(m[1]);
      return body ? { body, type: 'application/json' } : undefined; // no such block: the static server's 404
    },
  };
}


export default {
  rootDir: '.',
  files: ['packages/elements/src/**/*.test.ts', 'packages/core/src/**/*.browser-test.ts'],
  nodeResolve: { exportConditions: ['browser', 'development'] },
  concurrency: 1,
  concurrentBrowsers: 1,
  testFramework: { config: { timeout: 60_000 } },
  testsFinishTimeout: 600_000,
  browserStartTimeout: 60_000,
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
        headless: false, // --headless=new is passed below with the other flags
        args: CHROMIUM_FLAGS,
      },
    }),
  ],
  plugins: [
    esbuildPlugin({
      ts: true,
      target: 'es2022',
      tsconfig: new URL('./tsconfig.json', import.meta.url).pathname,
    }),
    sidianNodeCommands(),
    sidianServerCommands(),
    glyphOutlines(),
  ],
};
