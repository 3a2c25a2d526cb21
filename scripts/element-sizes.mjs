// Each element's own JavaScript, minified and gzipped, with lit, pdf.js and @sidian/core left out
// (they are shared by every element and loaded once). Budget: 12 KiB each. `npm run size:elements`
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

const BUDGET = 12 * 1024;
const entries = {
  'seal-placer': 'packages/elements/src/seal-placer/define.ts',
  'signature-pad': 'packages/elements/src/signature-pad/define.ts',
  'seal-image (helper)': 'packages/elements/src/seal-placer/seal-image.ts',
};
let over = false;
for (const [name, entry] of Object.entries(entries)) {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    minify: true,
    target: 'es2022',
    tsconfig: 'tsconfig.json',
    external: ['lit', 'lit/*', '@lit/*', 'pdfjs-dist', '@sidian/core'],
    logLevel: 'warning',
  });
  const code = out.outputFiles[0].contents;
  const gz = gzipSync(code, { level: 9 }).length;
  over ||= gz > BUDGET;
  console.log(`${name.padEnd(22)} ${String(code.length).padStart(7)} B min  ${String(gz).padStart(6)} B gzip  ${gz > BUDGET ? 'OVER BUDGET' : 'ok'}`);
}
process.exitCode = over ? 1 : 0;
