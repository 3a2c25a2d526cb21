// End-to-end tests (`npm test` runs them after the unit and browser tests, on a fresh build):
// the demo flow, the embedding examples and Storybook, each in Debian's Chromium via playwright-core.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['tests/e2e/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
