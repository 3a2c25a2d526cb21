/**
 * Flags for Debian's chromium in the tests, the browser tests (@web/test-runner), the end-to-end
 * tests and the benches: headless, no sandbox (CI runs as root), nothing fetched from the network.
 */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];
