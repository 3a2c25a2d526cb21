/**
 * `sidian serve [--dev] [--port 8080] [--data ./data] [--host 127.0.0.1] [--cors ORIGIN]... [--public-url URL]`
 * Production unless `--dev` (which `npm start` passes; loopback addresses only). `--production` is
 * accepted as a no-op for old scripts. Environment (docs/production.md): DATABASE_URL (PostgreSQL),
 * SIDIAN_CORS_ORIGINS (comma-separated), SIDIAN_PUBLIC_URL, SIDIAN_PORTAL_PUBLIC_KEY (PEM file path)
 * or SIDIAN_PORTAL_JWKS_URL, SIDIAN_PORTAL_ISSUER, SIDIAN_PORTAL_AUDIENCE,
 * SIDIAN_PORTAL_MAX_TOKEN_LIFETIME (s), the operator's PKI (SIDIAN_CA_*, SIDIAN_TSA_*, SIDIAN_SEAL_*,
 * SIDIAN_PKCS11_*, SIDIAN_TRUST_ANCHORS; pki/operator-pki.ts), SIDIAN_VERIFY_LIMIT_MB,
 * SIDIAN_TSA_PER_MINUTE, SIDIAN_ENROL_PER_MINUTE, SIDIAN_VERIFY_WORKERS, SIDIAN_VERIFY_HEAP_MB (each
 * verification worker process's heap).
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildServer } from '../app';
import { operatorPkiFromEnv } from '../pki/operator-pki';
import { parse, UsageError } from './args';

function num(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number`);
  return n;
}

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    port: { type: 'string', short: 'p' },
    data: { type: 'string', short: 'd' },
    host: { type: 'string' },
    cors: { type: 'string', multiple: true },
    'public-url': { type: 'string' },
    dev: { type: 'boolean' },
    /** The default since production became it; kept so that old service files keep working. */
    production: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  const port = values.port !== undefined ? Number(values.port) : Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('--port must be a port number');
  const dataDir = path.resolve(values.data ?? process.env.SIDIAN_DATA ?? './data');
  const corsOrigins = [...(values.cors ?? []), ...(process.env.SIDIAN_CORS_ORIGINS ?? '').split(',')]
    .map((s) => s.trim())
    .filter(Boolean);
  if (values.dev && values.production)
    throw new UsageError('--dev and --production exclude each other (production is the default)');
  const devMode = values.dev === true;
  const maxLifetime = num('SIDIAN_PORTAL_MAX_TOKEN_LIFETIME');
  const keyFile = process.env.SIDIAN_PORTAL_PUBLIC_KEY;
  const mb = num('SIDIAN_VERIFY_LIMIT_MB');
  const server = await buildServer({
    dataDir,
    databaseUrl: process.env.DATABASE_URL || undefined,
    port,
    host: values.host ?? process.env.HOST ?? '127.0.0.1',
    devMode,
    pki: operatorPkiFromEnv(process.env),
    corsOrigins,
    publicUrl: values['public-url'] ?? process.env.SIDIAN_PUBLIC_URL,
    portal: {
      publicKeyPem: keyFile ? fs.readFileSync(keyFile, 'utf8') : undefined,
      jwksUrl: process.env.SIDIAN_PORTAL_JWKS_URL || undefined,
      issuer: process.env.SIDIAN_PORTAL_ISSUER || undefined,
      audience: process.env.SIDIAN_PORTAL_AUDIENCE || undefined,
      maxTokenLifetimeSeconds: maxLifetime,
    },
    limits: {
      ...(mb ? { verifyBodyBytes: Math.round(mb * 1024 * 1024) } : {}),
      ...(num('SIDIAN_TSA_PER_MINUTE') ? { tsaPerMinute: num('SIDIAN_TSA_PER_MINUTE')! } : {}),
      ...(num('SIDIAN_ENROL_PER_MINUTE') ? { enrolPerMinute: num('SIDIAN_ENROL_PER_MINUTE')! } : {}),
      ...(num('SIDIAN_VERIFY_WORKERS') ? { verifyWorkers: num('SIDIAN_VERIFY_WORKERS')! } : {}),
      ...(num('SIDIAN_VERIFY_HEAP_MB') ? { verifyHeapMb: num('SIDIAN_VERIFY_HEAP_MB')! } : {}),
    },
    logger: !values.quiet && process.env.SIDIAN_LOG !== '0',
  });
  const url = await server.listen();
  const out = process.stdout;
  out.write(
    `sidian: listening on ${url} (data ${dataDir}, ${server.ctx.dbKind}${server.ctx.devMode ? ', development mode' : ''})\n`,
  );
  if (server.ctx.pki.created) out.write(`sidian: made a development PKI in ${server.ctx.pki.dir}\n`);
  if (server.ctx.devMode)
    out.write(`sidian: development department API key in ${path.join(dataDir, 'dev-department.json')}\n`);
  if (server.ctx.devMode) {
    out.write(`sidian: demo portal at ${url.replace('127.0.0.1', 'localhost')}/ (npm run build makes it)\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
