// bench/upload in Chromium: `npm run bench -- upload` (or `npx wtr --config bench/upload/wtr.config.mjs`).
// The repository's browser-test setup (Debian Chromium, esbuild, the real server) plus the bench's
// own Node-side commands (sizes from BENCH_UPLOAD_MB, memory sampling, writing the results).
import base from '../../web-test-runner.config.mjs';
import { benchUploadCommands } from './bench-commands.mjs';

export default {
  ...base,
  files: [process.env.BENCH_UPLOAD_FILES ?? 'bench/upload/upload.bench.ts'],
  testFramework: { config: { timeout: 3_600_000 } },
  testsFinishTimeout: 3_600_000,
  plugins: [...base.plugins, benchUploadCommands()],
};
