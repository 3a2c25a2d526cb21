/**
 * The demo portal on a 390 px phone (Chromium, the real `sidian serve`): the header wraps instead of
 * squeezing its parts (before: the logo's 四电 broke in two, 重置演示 stood one character per line),
 * its parts do not overlap, and the page does not scroll sideways.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startServer, watchedPage, type RunningServer } from './harness';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

type Box = { x: number; y: number; width: number; height: number };
const overlap = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('demo portal on a 390 px phone', () => {
  for (const lang of ['zh-CN', 'en'] as const) {
    it(`header fits and nothing overlaps (${lang})`, async () => {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 1,
        isMobile: true,
        hasTouch: true,
        locale: lang,
      });
      await context.addInitScript((l) => localStorage.setItem('sidian-demo-lang', l), lang);
      const { page, problems } = await watchedPage(context);
      await page.goto(`${server.url}/#step-1`);
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(390);
      const parts = ['.logo', '.masthead h1', '.service', '#lang', '#reset'];
      const boxes = await Promise.all(parts.map(async (sel) => (await page.locator(sel).boundingBox())!));
      for (const [i, b] of boxes.entries()) {
        expect(b.x, parts[i]).toBeGreaterThanOrEqual(0);
        expect(b.x + b.width, parts[i]).toBeLessThanOrEqual(390);
      }
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++)
          expect(overlap(boxes[i]!, boxes[j]!), `${parts[i]} overlaps ${parts[j]}`).toBe(false);
      // nothing squeezed: the round logo stays round, each button's label stays on one line
      const [logo, , , langBtn, resetBtn] = boxes;
      expect(Math.abs(logo!.width - logo!.height)).toBeLessThan(1);
      for (const b of [langBtn!, resetBtn!]) expect(b.height).toBeLessThanOrEqual(48);
      // the header's own box holds all of them (nothing spills below onto the steps)
      const header = (await page.locator('.masthead').boundingBox())!;
      for (const b of boxes) expect(b.y + b.height).toBeLessThanOrEqual(header.y + header.height + 0.5);
      expect(problems).toEqual([]);
      await context.close();
    });
  }
});
