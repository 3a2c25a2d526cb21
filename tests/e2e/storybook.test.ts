/**
 * Storybook: built (`npm run storybook:build` -> storybook-static), served statically, every story
 * opened in Chromium: no console error, no page error, no axe-core violation in the rendered story.
 * Each element's docs page must show its description and the manifest's attributes, events, parts
 * and CSS custom properties.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, axeViolations, launchChromium, startServer, watchedPage, type RunningServer } from './harness';

const OUT = path.join(ROOT, 'storybook-static');
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};

interface Entry {
  id: string;
  type: 'story' | 'docs';
  title: string;
  name: string;
}

let server: Server;
let base: string;
let browser: Browser;
let entries: Entry[];
let sidian: RunningServer;

/** The <material-uploader> stories talk to a Sidian server at their default endpoint: ours answers. */
const STORY_SERVER = 'http://127.0.0.1:8080';
async function contextWithServer(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  await context.route(`${STORY_SERVER}/**`, (route) =>
    route.continue({ url: route.request().url().replace(STORY_SERVER, sidian.url) }),
  );
  return context;
}

beforeAll(async () => {
  const built = spawnSync('npm', ['run', '--silent', 'storybook:build'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 280_000,
  });
  if (built.status !== 0) throw new Error(`storybook build failed:\n${built.stdout}\n${built.stderr}`);
  entries = Object.values(
    (JSON.parse(readFileSync(path.join(OUT, 'index.json'), 'utf8')) as { entries: Record<string, Entry> })
      .entries,
  );
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    const file = path.resolve(
      OUT,
      '.' + decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname),
    );
    if (!file.startsWith(OUT)) return void res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res
        .writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' })
        .end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  [browser, sidian] = await Promise.all([launchChromium(), startServer(['--cors', base])]);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  await sidian?.stop();
});

/** Waits for the story's elements to settle: rendered, their work (loading, verifying) done. */
async function settle(page: Page) {
  await page.waitForFunction(
    () => (document.querySelector('#storybook-root')?.childElementCount ?? 0) > 0,
    undefined,
    { timeout: 30_000 },
  );
  await page.evaluate(async () => {
    const els = [
      ...document.querySelectorAll('seal-placer, signature-pad, licence-viewer, material-uploader'),
    ] as (HTMLElement & {
      updateComplete?: Promise<unknown>;
      verified?: () => Promise<unknown>;
    })[];
    await Promise.all(els.map((el) => el.updateComplete));
    await Promise.all(els.map((el) => (el.tagName === 'LICENCE-VIEWER' ? el.verified?.() : undefined)));
  });
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(300);
}

describe('Storybook', () => {
  it('has a docs page and stories for every element', () => {
    const titles = new Set(entries.map((e) => e.title));
    for (const tag of ['seal-placer', 'signature-pad', 'licence-viewer', 'material-uploader']) {
      expect(titles.has(`Elements/${tag}`)).toBe(true);
      expect(entries.some((e) => e.id === `elements-${tag}--docs` && e.type === 'docs')).toBe(true);
      expect(
        entries.filter((e) => e.title === `Elements/${tag}` && e.type === 'story').length,
      ).toBeGreaterThan(1);
    }
  });

  it('every story renders with no console error and no axe-core violation', async () => {
    const context = await contextWithServer();
    const failures: string[] = [];
    for (const story of entries.filter((e) => e.type === 'story')) {
      const { page, problems } = await watchedPage(context);
      await page.goto(`${base}/iframe.html?id=${story.id}&viewMode=story`);
      await settle(page);
      const violations = await axeViolations(page, '#storybook-root');
      for (const p of [...problems, ...violations]) failures.push(`${story.id}: ${p}`);
      await page.close();
    }
    await context.close();
    expect(failures).toEqual([]);
  });

  it("each docs page shows the element's description, attributes, events, parts and custom properties", async () => {
    const manifest = JSON.parse(
      readFileSync(path.join(ROOT, 'packages/elements/custom-elements.json'), 'utf8'),
    ) as {
      modules: {
        declarations?: {
          tagName?: string;
          summary?: string;
          attributes?: { name: string }[];
          events?: { name?: string; description?: string }[];
          cssParts?: { name: string }[];
          cssProperties?: { name: string }[];
        }[];
      }[];
    };
    const context = await contextWithServer();
    for (const tag of ['seal-placer', 'signature-pad', 'licence-viewer', 'material-uploader']) {
      const d = manifest.modules.flatMap((m) => m.declarations ?? []).find((x) => x.tagName === tag)!;
      const { page, problems } = await watchedPage(context);
      await page.goto(`${base}/iframe.html?id=elements-${tag}--docs&viewMode=docs`);
      await page.waitForSelector('.docblock-argstable', { timeout: 60_000 });
      const text = (await page.textContent('#storybook-docs')) ?? '';
      const expected = [
        ...(d.attributes ?? []).map((a) => a.name),
        ...(d.events ?? []).filter((e) => e.description).map((e) => e.name!),
        ...(d.cssParts ?? []).map((p) => p.name),
        ...(d.cssProperties ?? []).map((p) => p.name),
      ];
      const missing = expected.filter((name) => !text.includes(name));
      expect(missing, `${tag} docs page lacks ${missing.join(', ')}`).toEqual([]);
      // the property table is the public API only (custom-elements-manifest.config.mjs)
      const table = (await page.textContent('.docblock-argstable')) ?? '';
      const internal = [
        'fieldsetDisabled',
        'loadToken',
        'signedFile',
        'formResetCallback',
        'updateForm',
        'onPageClick',
        'onPointerDown',
        'renderItem',
        'renderOverlay',
        'messageKind',
        'documentBytes',
      ];
      expect(
        internal.filter((name) => table.includes(name)),
        `${tag} property table`,
      ).toEqual([]);
      expect(problems, `${tag} docs page`).toEqual([]);
      await page.close();
    }
    await context.close();
  });
});
