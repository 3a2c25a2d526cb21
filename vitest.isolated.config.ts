import { defineConfig } from 'vitest/config';

/**
 * Timing-bound tests (`*.isolated.test.ts`): run by `npm test` after the main suite, one file at a
 * time, so no other test competes for the two cores while they measure.
 */
export default defineConfig({
  test: {
    // tests/packages: `npm pack` rewrites packages/*/package.json for a moment (prepack/postpack),
    // so no other test may resolve @sidian/* meanwhile
    include: ['server/src/**/*.isolated.test.ts', 'tests/**/*.isolated.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
