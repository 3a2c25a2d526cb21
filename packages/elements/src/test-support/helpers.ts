/**
 * Helpers for the elements' browser tests (@web/test-runner in Chromium). Node-side commands are
 * in tests/browser/node-commands.mjs.
 */
import { executeServerCommand } from '@web/test-runner-commands';
import { configurePdf } from '../shared/pdf-view';

configurePdf({ pdfjsBase: '/node_modules/pdfjs-dist/' });

export async function fixture<T extends HTMLElement>(markup: string): Promise<T> {
  const host = document.createElement('div');
  host.innerHTML = markup;
  document.body.append(host);
  const el = host.firstElementChild as T & { updateComplete?: Promise<unknown> };
  await el.updateComplete;
  return el;
}

export function cleanup(): void {
  document.body.replaceChildren();
}

export async function loadFixturePdf(name: string): Promise<Uint8Array> {
  const res = await fetch(`/tests/.generated/inputs/${name}.pdf`);
  if (!res.ok) throw new Error(`fixture ${name}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

export const fixtureUrl = (name: string): string => `/tests/.generated/inputs/${name}.pdf`;

const fromB64 = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
function toB64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export interface TestIdentity {
  key: CryptoKey;
  certificate: Uint8Array;
  chain: Uint8Array[];
  trustAnchor: Uint8Array;
}

/** A P-256 key (imported non-extractable into WebCrypto) and certificate from the test CA. */
export async function testIdentity(who: 'seal' | 'citizen' = 'seal'): Promise<TestIdentity> {
  const r = await executeServerCommand<{ keyPkcs8: string; certificate: string; chain: string[]; trustAnchor: string }, { who: string }>(
    'sidian-pki',
    { who },
  );
  const key = await crypto.subtle.importKey('pkcs8', fromB64(r.keyPkcs8), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  return { key, certificate: fromB64(r.certificate), chain: r.chain.map(fromB64), trustAnchor: fromB64(r.trustAnchor) };
}

export interface NodeVerification {
  file: string;
  pdfsig: { code: number; stdout: string };
  report: { status: string; signatures: { field: string; status: string; integrity: string; trust: string; modificationsAfter: string; reasons: string[] }[] };
}

/** Hands signed bytes back to Node: pdfsig and Sidian's verifyPdf (trusting the test CA). */
export function verifyInNode(name: string, pdf: Uint8Array): Promise<NodeVerification> {
  return executeServerCommand<NodeVerification, { name: string; pdf: string }>('sidian-verify', { name, pdf: toB64(pdf) });
}

/** Dark pixels in rectangles (PDF points) of a page as pdftoppm and mutool draw the signed bytes. */
export function inkInNode(
  name: string,
  pdf: Uint8Array,
  page: number,
  rects: { x: number; y: number; width: number; height: number }[],
): Promise<{ pdftoppm: number[]; mutool: number[] }> {
  return executeServerCommand('sidian-ink', { name, pdf: toB64(pdf), page, rects });
}

/** Runs axe-core on `el` (its shadow tree included) and returns the violations. */
export async function axeViolations(el: Element): Promise<string[]> {
  const axe = await loadAxe();
  const result = await axe.run(el, { resultTypes: ['violations'] });
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
}

type Axe = typeof import('axe-core');
let axePromise: Promise<Axe> | undefined;
function loadAxe(): Promise<Axe> {
  // axe-core is a UMD script: load it as a classic script and take the global.
  axePromise ??= new Promise<Axe>((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/node_modules/axe-core/axe.min.js';
    s.onload = () => resolve((window as unknown as { axe: Axe }).axe);
    s.onerror = () => reject(new Error('axe-core did not load'));
    document.head.append(s);
  });
  return axePromise;
}

export const nextFrame = (): Promise<void> => new Promise((r) => requestAnimationFrame(() => r()));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The centre of an element in viewport CSS pixels (what sendMouse takes). */
export function centre(el: Element): [number, number] {
  const r = el.getBoundingClientRect();
  return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)];
}
