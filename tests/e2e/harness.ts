/**
 * End-to-end harness: the real `sidian serve` (the CLI, as `npm start` runs it) on a free port with
 * a temp data directory, and Debian's Chromium driven by playwright-core. Pages collect console
 * errors, page errors and Content-Security-Policy violations so a test can assert there were none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS } from '../browser/chromium-flags.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export { CHROMIUM_FLAGS };

export interface RunningServer {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts `sidian serve` in development mode; resolves with its URL once it listens. */
export async function startServer(extraArgs: string[] = []): Promise<RunningServer> {
  if (
    !existsSync(path.join(ROOT, 'dist/elements/sidian.js')) ||
    !existsSync(path.join(ROOT, 'dist/demo/index.html'))
  ) {
    throw new Error('dist/ is missing: run `npm run build` first (scripts/test.sh does)');
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sidian-e2e-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      path.join(ROOT, 'server/bin/sidian.mjs'),
      'serve',
      '--dev',
      '--port',
      '0',
      '--data',
      dataDir,
      '--quiet',
      ...extraArgs,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SIDIAN_LOG: '0' },
    },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`sidian serve did not start in 90 s:\n${output}`)),
      90_000,
    );
    const onData = (b: Buffer) => {
      output += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace(/\/$/, ''));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sidian serve exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: false,
    args: CHROMIUM_FLAGS,
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and CSP violations, as text. */
  problems: string[];
}

/** A page that records every console error, page error and CSP violation. */
export async function watchedPage(context: BrowserContext, ignore: RegExp[] = []): Promise<WatchedPage> {
  const page = await context.newPage();
  const problems: string[] = [];
  const keep = (text: string) => !ignore.some((r) => r.test(text)) && problems.push(text);
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // every failed request counts: the uploader's instant-upload check answers 200 `{stored: false}`
    // (GET /api/materials/lookup), so a new upload logs nothing
    const url = m.location().url ?? '';
    keep(`console: ${m.text()} (${url})`);
  });
  page.on('pageerror', (e) => keep(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(
        `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`,
      );
    });
  });
  return { page, problems };
}

const AXE_SOURCE = () => readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's violations on the page (open shadow roots included), as text. axe is evaluated through
 * the DevTools protocol, so a page's CSP does not block it.
 */
export async function axeViolations(page: Page, include = 'body'): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE());
  return page.evaluate(async (sel) => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            ctx: unknown,
            o: unknown,
          ): Promise<{ violations: { id: string; help: string; nodes: { target: unknown }[] }[] }>;
        };
      }
    ).axe;
    const r = await axe.run({ include: [sel] }, { resultTypes: ['violations'] });
    return r.violations.map(
      (v) => `axe ${v.id} (${v.help}) at ${JSON.stringify(v.nodes.map((n) => n.target))}`,
    );
  }, include);
}
