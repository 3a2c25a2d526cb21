/**
 * Built files: the elements bundle under /elements/ (sidian.js, its lazy chunks, pdf.js's worker and
 * data files under /elements/pdfjs/) and the demo portal at / (development mode only). Both come
 * from `npm run build` (dist/); a missing build answers a JSON 404 that says so.
 *
 * In development mode, `GET /api/dev/department` also hands the demo department's seal (PKCS#12 and
 * its password) and API key to the demo portal, so the department's page can seal in the browser
 * (the key is imported into WebCrypto non-extractable) and register licences. A real department
 * keeps its seal key in its own browser or UKey and its API key on its own back office: production
 * mode has no such route.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Ctx } from '../context';
import { notFound } from '../errors';
import { DEMO_DEPARTMENT } from '../pki/dev-pki';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.bcmap': 'application/octet-stream',
  '.pfb': 'application/octet-stream',
  '.icc': 'application/octet-stream',
  '.md': 'text/plain; charset=utf-8',
  '': 'text/plain; charset=utf-8',
};

/** A path inside `dir` for a URL path, or undefined (traversal, odd characters, hidden files). */
export function safeJoin(dir: string, urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (!/^[A-Za-z0-9._/-]*$/.test(rel) || rel.split('/').some((s) => s.startsWith('.'))) return undefined;
  const full = path.resolve(dir, rel);
  return full.startsWith(dir + path.sep) ? full : undefined;
}

async function sendFile(
  reply: FastifyReply,
  file: string | undefined,
  missing: string,
  cache: string,
  crossOrigin: boolean,
) {
  if (!file) throw notFound();
  let data: Buffer;
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) throw notFound();
    data = await fs.promises.readFile(file);
  } catch {
    return reply.status(404).send({ error: 'NOT_FOUND', message: missing });
  }
  // public files: any site may load them, as module scripts (CORS mode) and their lazy chunks
  if (crossOrigin)
    reply.header('cross-origin-resource-policy', 'cross-origin').header('access-control-allow-origin', '*');
  return reply
    .header('cache-control', cache)
    .type(TYPES[path.extname(file)] ?? 'application/octet-stream')
    .send(data);
}

export interface StaticDirs {
  /** dist/elements */
  elementsDir: string;
  /** dist/demo */
  demoDir: string;
}

export const DEFAULT_DIST = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../dist');

export async function staticRoutes(app: FastifyInstance, ctx: Ctx, dirs: StaticDirs): Promise<void> {
  const elementsDir = path.resolve(dirs.elementsDir);
  const demoDir = path.resolve(dirs.demoDir);

  // any site may load the bundle (cross-origin-resource-policy), like a script from a CDN
  app.get('/elements/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const file = safeJoin(elementsDir, rest);
    const hashed = /-[A-Za-z0-9_-]{8}\.js$/.test(rest) || rest.startsWith('pdfjs/');
    return sendFile(
      reply,
      file,
      `${rest} has not been built (npm run build)`,
      hashed ? 'public, max-age=86400' : 'public, max-age=300',
      true,
    );
  });

  if (!ctx.devMode) return;

  app.get('/api/dev/department', async () => {
    const file = path.join(ctx.dataDir, 'dev-department.json');
    const d = JSON.parse(await fs.promises.readFile(file, 'utf8')) as { id: string; apiKey: string };
    return {
      id: d.id,
      name: DEMO_DEPARTMENT.name,
      creditCode: DEMO_DEPARTMENT.creditCode,
      region: DEMO_DEPARTMENT.region,
      apiKey: d.apiKey,
      seal: { p12: Buffer.from(ctx.pki.seal.p12!).toString('base64'), password: ctx.pki.seal.password },
    };
  });

  const demoPage = (file: string) => (_req: unknown, reply: FastifyReply) =>
    sendFile(
      reply,
      path.join(demoDir, file),
      'the demo portal has not been built (npm run build)',
      'no-cache',
      false,
    );
  app.get('/', demoPage('index.html'));
  app.get('/index.html', demoPage('index.html'));
  app.get('/assets/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    return sendFile(
      reply,
      safeJoin(path.join(demoDir, 'assets'), rest),
      'not built',
      'public, max-age=86400',
      false,
    );
  });
  app.get('/fonts/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    return sendFile(
      reply,
      safeJoin(path.join(demoDir, 'fonts'), rest),
      'not built',
      'public, max-age=86400',
      false,
    );
  });
}
