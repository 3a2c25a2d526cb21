/**
 * Test harness: the real server on an ephemeral port with a temp data directory, SQLite or a
 * throwaway PostgreSQL cluster (initdb + pg_ctl on loopback, as the postgres user when we are root).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { buildServer, type ServerOptions, type SidianServer } from '../app';
import { generateDevPki, writeDevPki } from '../pki/dev-pki';
import type { OperatorPkiConfig } from '../pki/operator-pki';

export const SERVER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO_ROOT = path.resolve(SERVER_DIR, '..');
export const SIDIAN_BIN = path.join(SERVER_DIR, 'bin', 'sidian.mjs');

export function tempDir(prefix = 'sidian-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestServer {
  url: string;
  server: SidianServer;
  dataDir: string;
  /** The development department's API key. */
  apiKey: string;
  databaseUrl?: string;
  close(): Promise<void>;
}

export async function startTestServer(o: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = o.dataDir ?? tempDir();
  const server = await buildServer({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    devMode: true,
    logger: false,
    ...o,
  });
  const url = await server.listen();
  const deptFile = path.join(dataDir, 'dev-department.json');
  const dept = (fs.existsSync(deptFile) ? JSON.parse(fs.readFileSync(deptFile, 'utf8')) : { apiKey: '' }) as {
    apiKey: string;
  };
  return {
    url,
    server,
    dataDir,
    apiKey: dept.apiKey,
    databaseUrl: o.databaseUrl,
    async close() {
      await server.close();
    },
  };
}

// ---------------------------------------------------------------- production

export const PORTAL_ISSUER = 'https://portal.example.gov.cn';
export const PORTAL_AUDIENCE = 'sidian';

/** An operator's PKI as files in `dir` (made here; in real life the operator's CA tooling makes them). */
export async function operatorPkiFiles(dir = tempDir('sidian-opki-')): Promise<OperatorPkiConfig> {
  const password = 'operator-p12-password';
  writeDevPki(dir, await generateDevPki({ password }));
  const f = (name: string) => path.join(dir, name);
  return {
    ca: { kind: 'pem', keyFile: f('ca.key.pem'), certFile: f('ca.pem') },
    tsa: { kind: 'pem', keyFile: f('tsa.key.pem'), certFile: f('tsa.pem') },
    seal: { kind: 'p12', file: f('seal.p12'), password },
  };
}

/** A portal that issues citizens' tokens: its public key PEM and a signer for tokens. */
export async function testPortal() {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const publicKeyPem = await jose.exportSPKI(publicKey);
  return {
    publicKeyPem,
    config: { publicKeyPem, issuer: PORTAL_ISSUER, audience: PORTAL_AUDIENCE },
    /** A token for 张三; `o` overrides audience, issuer, lifetime (s) or leaves out iat. */
    async token(o: { audience?: string; issuer?: string; lifetime?: number; noIat?: boolean } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const jwt = new jose.SignJWT({ name: '张三', idNumber: '110101199003074477' })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(o.issuer ?? PORTAL_ISSUER)
        .setAudience(o.audience ?? PORTAL_AUDIENCE)
        .setExpirationTime(now + (o.lifetime ?? 300));
      if (!o.noIat) jwt.setIssuedAt(now);
      return jwt.sign(privateKey);
    },
  };
}

/** Options for an in-process production server: the operator's PKI files and a portal. */
export async function productionOptions(): Promise<{
  options: Partial<ServerOptions>;
  portal: Awaited<ReturnType<typeof testPortal>>;
}> {
  const portal = await testPortal();
  return { options: { devMode: false, pki: await operatorPkiFiles(), portal: portal.config }, portal };
}

// ---------------------------------------------------------------- PostgreSQL

function pgBinDir(): string | undefined {
  try {
    const d = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (fs.existsSync(path.join(d, 'initdb'))) return d;
  } catch {
    /* try the Debian layout */
  }
  const base = '/usr/lib/postgresql';
  if (fs.existsSync(base)) {
    for (const v of fs.readdirSync(base).sort((a, b) => Number(b) - Number(a))) {
      const d = path.join(base, v, 'bin');
      if (fs.existsSync(path.join(d, 'initdb'))) return d;
    }
  }
  return undefined;
}

export const postgresAvailable = (): boolean => pgBinDir() !== undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export interface PgCluster {
  port: number;
  /** A fresh, empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<PgCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found (apt-get install -y postgresql)');
  const root = process.getuid?.() === 0;
  const dir = tempDir('sidian-pg-');
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  fs.mkdirSync(sock);
  if (root) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const run = (cmd: string, args: string[]) =>
    root
      ? execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { stdio: 'pipe' })
      : execFileSync(path.join(bin, cmd), args, { stdio: 'pipe' });
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  run('pg_ctl', [
    '-D',
    data,
    '-l',
    path.join(dir, 'log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -k ${sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    'start',
  ]);
  const { default: pg } = await import('pg');
  return {
    port,
    async createDatabase(name: string) {
      const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await c.connect();
      await c.query(`CREATE DATABASE "${name.replace(/[^a-z0-9_]/g, '_')}"`);
      await c.end();
      return `postgres://postgres@127.0.0.1:${port}/${name.replace(/[^a-z0-9_]/g, '_')}`;
    },
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ---------------------------------------------------------------- helpers

export async function devToken(
  url: string,
  name = '张三',
  idNumber = '110101199003074477',
  ttlSeconds?: number,
): Promise<string> {
  const r = await fetch(`${url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, idNumber, ttlSeconds }),
  });
  if (r.status !== 200) throw new Error(`dev token: ${r.status}`);
  return ((await r.json()) as { token: string }).token;
}

/** Runs the sidian CLI as a child process. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [SIDIAN_BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      stdio: 'pipe',
    });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, stdout: x.stdout, stderr: x.stderr };
  }
}

/**
 * Starts `sidian serve` as a child process; resolves with its URL once it listens. Development mode
 * (`--dev`) unless `o.dev` is false: production is the CLI's default and needs the operator's PKI.
 */
export async function spawnServer(
  dataDir: string,
  port: number,
  env: Record<string, string | undefined> = {},
  o: { log?: boolean; dev?: boolean; args?: string[] } = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(
    process.execPath,
    [
      SIDIAN_BIN,
      'serve',
      ...(o.dev === false ? [] : ['--dev']),
      '--data',
      dataDir,
      '--port',
      String(port),
      ...(o.log ? [] : ['--quiet']),
      ...(o.args ?? []),
    ],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.ok) return { child, url, output: () => out };
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start: ${out}`);
}

export { freePort };

/** Stops a child process (SIGTERM by default) and waits for it to exit. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
