/**
 * Who is calling: citizens with portal tokens (JWTs verified with jose against the configured
 * portal key; in development a key of our own signs `/api/dev/token` tokens), and departments with
 * API keys (only their SHA-256 is stored).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as jose from 'jose';
import type { FastifyRequest } from 'fastify';
import type { Db } from './db/index';
import { HttpError, unauthorized } from './errors';

export interface PortalConfig {
  /** SPKI PEM public key of the portal that issues tokens. */
  publicKeyPem?: string;
  /** Or a JWKS URL. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  algorithms?: string[];
  /**
   * Longest accepted token lifetime, exp - iat (seconds, default 3600): a leaked long-lived token
   * is a standing key to a citizen's materials. Tokens without iat are refused.
   */
  maxTokenLifetimeSeconds?: number;
}

export const DEFAULT_MAX_TOKEN_LIFETIME = 3600;

export interface Citizen {
  kind: 'citizen';
  /** Pseudonymous, stable: hash of the id number (the audit log and materials use this). */
  id: string;
  name: string;
  idNumber: string;
}

export interface Department {
  kind: 'department';
  id: string;
  name: string;
  creditCode: string;
}

export type Caller = Citizen | Department;

export const DEV_ISSUER = 'sidian-dev-portal';
export const DEV_AUDIENCE = 'sidian';

export function pseudonym(idNumber: string): string {
  return (
    'citizen:' +
    createHash('sha256')
      .update('sidian-citizen\0' + idNumber)
      .digest('hex')
      .slice(0, 32)
  );
}

export function apiKeyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export class Auth {
  private verifiers: {
    key: jose.CryptoKey | jose.JWTVerifyGetKey | Uint8Array;
    issuer?: string;
    audience?: string;
    algorithms?: string[];
  }[] = [];
  private devKey?: jose.CryptoKey;
  /** Longest accepted exp - iat, seconds. */
  readonly maxTokenLifetime: number;

  constructor(
    private readonly db: Db,
    maxTokenLifetime = DEFAULT_MAX_TOKEN_LIFETIME,
  ) {
    this.maxTokenLifetime = maxTokenLifetime;
  }

  static async create(
    db: Db,
    o: { portal?: PortalConfig; devMode: boolean; dataDir: string },
  ): Promise<Auth> {
    const p = o.portal;
    const a = new Auth(db, p?.maxTokenLifetimeSeconds);
    if (p?.publicKeyPem) {
      const alg = p.algorithms?.[0] ?? 'ES256';
      a.verifiers.push({
        key: await jose.importSPKI(p.publicKeyPem, alg),
        issuer: p.issuer,
        audience: p.audience,
        algorithms: p.algorithms ?? [alg],
      });
    }
    if (p?.jwksUrl) {
      a.verifiers.push({
        key: jose.createRemoteJWKSet(new URL(p.jwksUrl)),
        issuer: p.issuer,
        audience: p.audience,
        algorithms: p.algorithms,
      });
    }
    if (o.devMode) {
      const file = path.join(o.dataDir, 'pki', 'dev-portal.jwk.json');
      let jwk: jose.JWK;
      if (fs.existsSync(file)) jwk = JSON.parse(fs.readFileSync(file, 'utf8'));
      else {
        const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
        jwk = await jose.exportJWK(privateKey);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
      }
      a.devKey = (await jose.importJWK(jwk, 'ES256')) as jose.CryptoKey;
      const pub = { ...jwk };
      delete pub.d;
      a.verifiers.push({
        key: (await jose.importJWK(pub, 'ES256')) as jose.CryptoKey,
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
        algorithms: ['ES256'],
      });
    }
    return a;
  }

  get devTokens(): boolean {
    return !!this.devKey;
  }

  /** A development portal token for a named person (dev mode only). */
  async devToken(name: string, idNumber: string, ttlSeconds = 3600): Promise<string> {
    if (!this.devKey) throw new Error('development tokens are disabled');
    // one clock reading for iat and exp, so that exp - iat is exactly the ttl the lifetime check sees
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({ name, idNumber })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setSubject(pseudonym(idNumber))
      .setIssuedAt(now)
      .setJti(randomUUID())
      .setExpirationTime(now + ttlSeconds)
      .sign(this.devKey);
  }

  async verifyToken(token: string): Promise<Citizen> {
    let lastError: unknown;
    for (const v of this.verifiers) {
      try {
        const { payload } = await jose.jwtVerify(token, v.key as never, {
          issuer: v.issuer,
          audience: v.audience,
          algorithms: v.algorithms,
          requiredClaims: ['exp', 'iat'],
          // with maxTokenAge jose also refuses an iat in the future
          maxTokenAge: this.maxTokenLifetime,
          clockTolerance: 30,
        });
        if (payload.exp! - payload.iat! > this.maxTokenLifetime)
          throw unauthorized(
            `the portal token lives longer than ${this.maxTokenLifetime} s (exp - iat); ask the portal for a shorter-lived token`,
            'TOKEN_LIFETIME_TOO_LONG',
          );
        const name = typeof payload.name === 'string' ? payload.name.trim() : '';
        const idNumber = typeof payload.idNumber === 'string' ? payload.idNumber.trim() : '';
        if (!name || !idNumber || name.length > 128 || idNumber.length > 64)
          throw unauthorized('the token lacks name and idNumber claims', 'TOKEN_INVALID');
        return { kind: 'citizen', id: pseudonym(idNumber), name, idNumber };
      } catch (e) {
        lastError = e;
      }
    }
    if (lastError instanceof jose.errors.JWTExpired)
      throw unauthorized('the portal token has expired', 'TOKEN_EXPIRED');
    if (lastError instanceof HttpError) throw lastError;
    throw unauthorized('the portal token is not valid', 'TOKEN_INVALID');
  }

  async department(apiKey: string): Promise<Department | undefined> {
    if (!apiKey || apiKey.length > 256) return undefined;
    const row = await this.db
      .selectFrom('departments')
      .selectAll()
      .where('api_key_hash', '=', apiKeyHash(apiKey))
      .executeTakeFirst();
    return row ? { kind: 'department', id: row.id, name: row.name, creditCode: row.credit_code } : undefined;
  }

  /** The caller of a request, if any: `X-Api-Key` (department) or `Authorization: Bearer` (citizen). */
  async caller(req: FastifyRequest): Promise<Caller | undefined> {
    const key = req.headers['x-api-key'];
    if (typeof key === 'string') {
      const d = await this.department(key);
      if (!d) throw unauthorized('unknown API key', 'API_KEY_INVALID');
      return d;
    }
    const h = req.headers.authorization;
    if (typeof h === 'string') {
      const m = /^Bearer\s+(\S+)$/i.exec(h);
      if (!m) throw unauthorized('expected Authorization: Bearer <token>', 'TOKEN_INVALID');
      return this.verifyToken(m[1]!);
    }
    return undefined;
  }

  async requireCitizen(req: FastifyRequest): Promise<Citizen> {
    const c = await this.caller(req);
    if (!c || c.kind !== 'citizen')
      throw unauthorized('a portal token is required (Authorization: Bearer)', 'TOKEN_REQUIRED');
    return c;
  }

  async requireDepartment(req: FastifyRequest): Promise<Department> {
    const c = await this.caller(req);
    if (!c || c.kind !== 'department')
      throw unauthorized('a department API key is required (X-Api-Key)', 'API_KEY_REQUIRED');
    return c;
  }

  /** Registers a department; returns its new API key (shown once). */
  async createDepartment(d: {
    id?: string;
    name: string;
    creditCode: string;
    apiKey?: string;
  }): Promise<{ id: string; apiKey: string }> {
    const apiKey = d.apiKey ?? 'sdk_' + randomBytes(24).toString('base64url');
    const id = d.id ?? randomUUID();
    await this.db
      .insertInto('departments')
      .values({
        id,
        name: d.name,
        credit_code: d.creditCode,
        api_key_hash: apiKeyHash(apiKey),
        created_at: new Date().toISOString(),
      })
      .execute();
    return { id, apiKey };
  }
}

export function actorOf(c: Caller | undefined): string {
  if (!c) return 'anonymous';
  return c.kind === 'citizen' ? c.id : `department:${c.id}`;
}
