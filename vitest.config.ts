import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'server/src/**/*.test.ts', 'tests/**/*.test.ts'],
    // packages/elements: browser tests, run by @web/test-runner (`npm run test:browser`)
    exclude: ['**/node_modules/**', 'tests/e2e/**', 'packages/elements/**', '**/*.isolated.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['tests/setup/global-setup.ts'],
  },
});
