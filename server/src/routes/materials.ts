/**
 * The materials library (材料库): tus 1.0 resumable uploads (@tus/server + FileStore) under
 * /api/materials/uploads. On completion the file is hashed (SHA-256) and stored content-addressed
 * (one copy per content, by hard link), and a row records owner and requirement. Only the owner
 * (portal token) and departments (API key) can read a material.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql, type Transaction } from 'kysely';
import { EVENTS, Server as TusServer } from '@tus/server';
import { FileStore } from '@tus/file-store';
import { verifyDetachedSignature } from '@sidian/core';
import { actorOf, type Caller } from '../auth';
import { SHA256_HEX } from '../blobs';
import type { Ctx } from '../context';
import type { Database, MaterialSignaturesTable, MaterialsTable } from '../db/schema';
import { badRequest, forbidden, HttpError, notFound, unauthorized, unprocessable } from '../errors';

const UPLOAD_PATH = '/api/materials/uploads';
const ID = /^[0-9a-f]{32}$/;

/** A material's signature as the metadata shows it: who signed, and what the server found. */
export function publicSignature(r: MaterialSignaturesTable) {
  return {
    id: r.id,
    signer: {
      subject: r.signer_subject,
      commonName: r.signer_common_name,
      serialNumber: r.signer_serial,
      issuer: r.signer_issuer,
    },
    integrity: r.integrity,
    trust: r.trust,
    status: r.status,
    reasons: JSON.parse(r.reasons) as string[],
    verifiedAt: r.verified_at,
    content: `/api/materials/${r.id}/content`,
  };
}

export function publicMaterial(r: MaterialsTable, signatures: MaterialSignaturesTable[] = []) {
  return {
    id: r.id,
    department: r.department_id,
    sha256: r.sha256,
    size: Number(r.size),
    name: r.name,
    type: r.type,
    requirement: r.requirement,
    createdAt: r.created_at,
    content: `/api/materials/${r.id}/content`,
    signatures: signatures.map(publicSignature),
  };
}

/** The largest detached CMS accepted: a signature with its chain and a timestamp is a few KiB. */
const SIGNATURE_BYTES = 256 * 1024;

/**
 * Who reads a material: its owner, and the department the application was made to. Other
 * departments do not: a department sees only what citizens hand in to it.
 */
function canRead(caller: Caller, row: Pick<MaterialsTable, 'owner' | 'department_id'>): boolean {
  return row.owner === actorOf(caller) || (caller.kind === 'department' && row.department_id === caller.id);
}

function cleanText(v: unknown, max: number, dflt = ''): string {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string' || v.length > max || /[\u0000-\u001f]/.test(v))
    throw badRequest('metadata values must be short texts', 'BAD_METADATA');
  return v;
}

/** tus answers some client errors itself in plain text (412, invalid headers): those leave as `{error, message}` too. */
class JsonErrorTusServer extends TusServer {
  override write(...[context, headers, status, body]: Parameters<TusServer['write']>) {
    if (status >= 400 && body !== undefined) headers.set('Content-Type', 'application/json; charset=utf-8');
    if (status >= 400 && body !== undefined && !body.startsWith('{')) {
      body = JSON.stringify({
        error: status === 412 ? 'TUS_RESUMABLE_REQUIRED' : status >= 500 ? 'INTERNAL' : 'UPLOAD_ERROR',
        message: status >= 500 ? 'upload failed' : body.trim() || 'upload request rejected',
      });
    }
    return super.write(context, headers, status, body);
  }
}

/** tus's FileStore, with the upload's bytes and metadata readable by the server's user only (0600). */
class PrivateFileStore extends FileStore {
  override async create(file: Parameters<FileStore['create']>[0]) {
    const created = await super.create(file);
    const p = path.join(this.directory, file.id);
    await fs.promises.chmod(p, 0o600);
    await fs.promises.chmod(`${p}.json`, 0o600).catch(() => undefined);
    return created;
  }
}

export class Materials {
  readonly dir: string;
  readonly store: FileStore;

  constructor(private readonly ctx: Ctx) {
    this.dir = path.join(ctx.dataDir, 'uploads');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.dir, 0o700);
    this.store = new PrivateFileStore({
      directory: this.dir,
      expirationPeriodInMilliseconds: ctx.limits.uploadExpiryMs,
    });
  }

  /**
   * Checks the owner's quota and concurrent uploads, then records the upload (one transaction;
   * on PostgreSQL under a lock per owner, so two parallel creations cannot both take the last room).
   */
  async admit(
    id: string | null,
    owner: string,
    size: number,
    /** Instead of an upload (id null): writes a material in the same transaction. */
    write?: (trx: Transaction<Database>) => Promise<void>,
  ): Promise<void> {
    const { userQuotaBytes, concurrentUploads, uploadExpiryMs } = this.ctx.limits;
    const now = new Date();
    await this.ctx.db.transaction().execute(async (trx) => {
      if (this.ctx.dbKind === 'postgres')
        await sql`SELECT pg_advisory_xact_lock(4242002, hashtext(${owner}))`.execute(trx);
      const open = await trx
        .selectFrom('uploads')
        .select([(eb) => eb.fn.countAll().as('n'), (eb) => eb.fn.sum('size').as('bytes')])
        .where('owner', '=', owner)
        .where('expires_at', '>', now.toISOString())
        .executeTakeFirst();
      const kept = await trx
        .selectFrom('materials')
        .select((eb) => eb.fn.sum('size').as('bytes'))
        .where('owner', '=', owner)
        .executeTakeFirst();
      if (id !== null && Number(open?.n ?? 0) >= concurrentUploads)
        throw new HttpError(
          429,
          'TOO_MANY_UPLOADS',
          `at most ${concurrentUploads} uploads in progress at once; finish or delete one first / 同时进行的上传过多`,
        );
      const used = Number(open?.bytes ?? 0) + Number(kept?.bytes ?? 0);
      if (used + size > userQuotaBytes)
        throw new HttpError(
          413,
          'QUOTA_EXCEEDED',
          `this upload would take your storage to ${used + size} bytes; the quota is ${userQuotaBytes} bytes / 超出存储配额`,
        );
      if (write) await write(trx);
      if (id !== null)
        await trx
          .insertInto('uploads')
          .values({
            id,
            owner,
            size,
            created_at: now.toISOString(),
            expires_at: new Date(now.getTime() + uploadExpiryMs).toISOString(),
          })
          .execute();
    });
  }

  /** Drops expired incomplete uploads (files and rows); returns how many uploads were removed. */
  async expire(): Promise<number> {
    const n = await this.store.deleteExpired();
    await this.ctx.db.deleteFrom('uploads').where('expires_at', '<=', new Date().toISOString()).execute();
    return n;
  }

  /**
   * Deletes a material for its owner: the row, its signatures, the upload's files, and the blob when
   * no other material or licence holds the same content. Audit entry `material.delete`.
   */
  async remove(row: MaterialsTable, actor: string): Promise<void> {
    const sigs = await this.ctx.db
      .selectFrom('material_signatures')
      .select('id')
      .where('material_id', '=', row.id)
      .execute();
    const ids = [row.id, ...sigs.map((x) => x.id)];
    const gone = await this.ctx.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('materials')
        .select(['id', 'sha256'])
        .where('id', 'in', ids)
        .execute();
      await trx.deleteFrom('material_signatures').where('material_id', '=', row.id).execute();
      await trx.deleteFrom('materials').where('id', 'in', ids).execute();
      const orphans: string[] = [];
      for (const h of new Set(rows.map((r) => r.sha256))) {
        const still =
          (await trx
            .selectFrom('materials')
            .select('id')
            .where('sha256', '=', h)
            .limit(1)
            .executeTakeFirst()) ??
          (await trx.selectFrom('licences').select('id').where('sha256', '=', h).limit(1).executeTakeFirst());
        if (!still) {
          await trx.deleteFrom('blobs').where('sha256', '=', h).execute();
          orphans.push(h);
        }
      }
      await this.ctx.audit.append(trx, {
        actor,
        action: 'material.delete',
        subject: `material:${row.id}:${row.sha256}`,
      });
      return orphans;
    });
    for (const id of ids)
      for (const f of [id, `${id}.json`]) await fs.promises.rm(path.join(this.dir, f), { force: true });
    for (const h of gone) await this.ctx.blobs.remove(h);
  }

  /**
   * Turns a complete upload into a material. Idempotent: called on completion and again at start-up
   * for uploads that completed just before a crash; the upload id is the material id.
   */
  async finalize(id: string): Promise<MaterialsTable | undefined> {
    const existing = await this.ctx.db
      .selectFrom('materials')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (existing) return existing;
    const info = await this.store.getUpload(id);
    if (info.size === undefined || info.offset !== info.size) return undefined;
    const md = info.metadata ?? {};
    const owner = md.owner;
    if (!owner) return undefined;
    const { sha256, size } = await this.ctx.blobs.linkFile(path.join(this.dir, id));
    const now = new Date().toISOString();
    const row: MaterialsTable = {
      id,
      sha256,
      size,
      name: md.filename ?? md.name ?? '',
      type: md.filetype ?? md.type ?? 'application/octet-stream',
      requirement: md.requirement ?? '',
      owner,
      created_at: now,
      department_id: md.department || null,
    };
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        if (await trx.selectFrom('materials').select('id').where('id', '=', id).executeTakeFirst()) return;
        await trx
          .insertInto('blobs')
          .values({ sha256, size, created_at: now })
          .onConflict((oc) => oc.column('sha256').doNothing())
          .execute();
        await trx.insertInto('materials').values(row).execute();
        await trx.deleteFrom('uploads').where('id', '=', id).execute();
        await this.ctx.audit.append(trx, {
          actor: owner,
          action: 'material.upload',
          subject: `material:${id}:${sha256}`,
        });
      });
    } catch (e) {
      if (!/unique|duplicate/i.test((e as Error).message ?? '')) throw e;
    }
    return this.ctx.db.selectFrom('materials').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Start-up recovery: complete uploads without a material row (a crash between the last byte and the row). */
  async recover(): Promise<number> {
    let n = 0;
    for (const f of fs.readdirSync(this.dir)) {
      const m = /^([0-9a-f]{32})\.json$/.exec(f);
      if (!m) continue;
      try {
        if (await this.finalize(m[1]!)) n++;
      } catch {
        /* an incomplete or unreadable upload: the client resumes it */
      }
    }
    return n;
  }
}

export async function materialRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  /** The department an application is made to, by id; unknown ids are refused. */
  const departmentOf = async (v: unknown): Promise<string> => {
    if (typeof v !== 'string' || !v || v.length > 128)
      throw badRequest('department must be a department id', 'BAD_METADATA');
    const d = await ctx.db.selectFrom('departments').select('id').where('id', '=', v).executeTakeFirst();
    if (!d) throw unprocessable(`no department "${v}"`, 'DEPARTMENT_UNKNOWN');
    return d.id;
  };

  const materials = new Materials(ctx);
  ctx.blobs.removeStaleTemporaries();
  await materials.recover();
  await materials.expire();
  const sweep = setInterval(
    () => void materials.expire().catch(() => undefined),
    Math.max(500, Math.min(ctx.limits.uploadExpiryMs / 2, 5 * 60_000)),
  );
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
  const callers = new WeakMap<IncomingMessage, Caller>();
  const nodeReq = (r: unknown) =>
    (r as { runtime?: { node?: { req?: IncomingMessage } }; node?: { req?: IncomingMessage } }).runtime?.node
      ?.req;

  /** The upload id each request was checked for: tus must act on this id, never re-read the URL. */
  const checkedIds = new WeakMap<IncomingMessage, string>();

  const tus = new JsonErrorTusServer({
    path: UPLOAD_PATH,
    datastore: materials.store,
    maxSize: ctx.limits.materialBytes,
    relativeLocation: true,
    respectForwardedHeaders: false,
    disableTerminationForFinishedUploads: true,
    namingFunction: () => randomBytes(16).toString('hex'),
    // tus would take the last `/…` of the whole URL (query included); we hand it the id we checked.
    getFileIdFromRequest: (req) => checkedIds.get(nodeReq(req)!),
    allowedOrigins: () => false, // CORS headers come from our own configuration (below)
    async onUploadCreate(req, upload) {
      const caller = callers.get(nodeReq(req)!);
      if (!caller)
        throw {
          status_code: 401,
          body: JSON.stringify({ error: 'UNAUTHORIZED', message: 'authentication required' }),
        };
      if (upload.sizeIsDeferred || upload.size === undefined) {
        throw {
          status_code: 400,
          body: JSON.stringify({ error: 'BAD_REQUEST', message: 'Upload-Length is required' }),
        };
      }
      const md = upload.metadata ?? {};
      let filename: string, filetype: string, requirement: string, department: string;
      try {
        filename = cleanText(md.filename ?? md.name, 255, 'material');
        filetype = cleanText(md.filetype ?? md.type, 128, 'application/octet-stream');
        requirement = cleanText(md.requirement, 128, '');
        department = (md.department ? await departmentOf(md.department) : null) ?? '';
      } catch (e) {
        const h = e as HttpError;
        throw {
          status_code: h.status ?? 400,
          body: JSON.stringify({ error: h.code ?? 'BAD_METADATA', message: h.message }),
        };
      }
      try {
        await materials.admit(upload.id, actorOf(caller), upload.size);
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        throw { status_code: e.status, body: JSON.stringify({ error: e.code, message: e.message }) };
      }
      return {
        metadata: {
          filename,
          filetype,
          requirement,
          owner: actorOf(caller),
          ...(department ? { department } : {}),
        },
      };
    },
    async onUploadFinish(_req, upload) {
      const row = await materials.finalize(upload.id);
      return row ? { headers: { 'X-Material-Id': row.id, 'X-Content-Sha256': row.sha256 } } : {};
    },
    onResponseError(_req, err) {
      const e = err as { status_code?: number; body?: string };
      if (e.status_code && e.status_code < 500) {
        const body = e.body?.startsWith('{')
          ? e.body
          : JSON.stringify({
              error: 'UPLOAD_ERROR',
              message: (e.body ?? '').trim() || 'upload request rejected',
            });
        return { status_code: e.status_code, body };
      }
      return { status_code: 500, body: JSON.stringify({ error: 'INTERNAL', message: 'upload failed' }) };
    },
  });

  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method !== 'OPTIONS') {
      // tus 1.0 URLs carry no query; a query is where `?x=/<another id>` would steer tus elsewhere.
      if (req.raw.url?.includes('?'))
        throw badRequest('upload URLs take no query string / 上传地址不接受查询参数', 'UPLOAD_URL_QUERY');
      if (!req.headers['tus-resumable'])
        throw new HttpError(412, 'TUS_RESUMABLE_REQUIRED', 'send Tus-Resumable: 1.0.0');
      if (req.headers['upload-checksum'] !== undefined)
        throw badRequest(
          'Upload-Checksum is not supported here (the checksum extension is not offered); the server hashes every completed upload with SHA-256',
          'CHECKSUM_UNSUPPORTED',
        );
      const caller = await ctx.auth.caller(req);
      if (!caller)
        throw unauthorized('a portal token (Authorization: Bearer) or department API key is required');
      const id = (req.params as { id?: string }).id;
      if (id !== undefined) {
        if (!ID.test(id)) throw notFound('no such upload');
        let owner: string | undefined;
        try {
          owner = (await materials.store.getUpload(id)).metadata?.owner ?? undefined;
        } catch {
          throw notFound('no such upload');
        }
        if (owner !== actorOf(caller)) throw notFound('no such upload');
        checkedIds.set(req.raw, id);
      } else if (req.method !== 'POST') {
        throw badRequest('use POST to create an upload');
      }
      callers.set(req.raw, caller);
    }
    // hand over to tus with the headers our plugins (CORS, helmet) have set
    for (const [k, v] of Object.entries(reply.getHeaders()))
      if (v !== undefined) reply.raw.setHeader(k, v as string);
    reply.hijack();
    await tus.handle(req.raw, reply.raw);
  };

  tus.on(EVENTS.POST_TERMINATE, (_req: unknown, _res: unknown, id: string) => {
    void ctx.db
      .deleteFrom('uploads')
      .where('id', '=', id)
      .execute()
      .catch(() => undefined);
  });

  // The owner deletes a material (and its signatures); the content goes when nothing else holds it.
  app.delete('/api/materials/:id', async (req, reply) => {
    const caller = await ctx.auth.caller(req);
    if (!caller) throw unauthorized();
    const { id } = req.params as { id: string };
    if (!ID.test(id)) throw notFound('no such material');
    const row = await ctx.db.selectFrom('materials').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.owner !== actorOf(caller)) throw notFound('no such material');
    if (row.type === 'application/pkcs7-signature')
      throw unprocessable('delete the signed material; its signatures go with it', 'DELETE_THE_MATERIAL');
    await materials.remove(row, actorOf(caller));
    return reply.status(204).send();
  });

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null)); // tus reads the stream itself
    for (const url of [UPLOAD_PATH, `${UPLOAD_PATH}/:id`]) {
      scope.route({
        method: ['POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'],
        url,
        handler: handle,
        exposeHeadRoute: false,
      });
    }
  });

  /**
   * Instant upload (秒传) check: the caller's stored material with this content, if any. Only content
   * this caller already holds counts: a bare hash is no proof of having the bytes. A department
   * learns only about materials handed in to it, never whether a citizen holds a file.
   */
  const storedByHash = async (req: FastifyRequest, sha256: string) => {
    const caller = await ctx.auth.caller(req);
    if (!caller) throw unauthorized();
    const h = sha256.toLowerCase();
    if (!SHA256_HEX.test(h)) throw badRequest('not a SHA-256 hex digest');
    const actor = actorOf(caller);
    const row = await ctx.db
      .selectFrom('materials')
      .select(['id', 'size', 'owner'])
      .where('sha256', '=', h)
      .where((eb) =>
        caller.kind === 'department'
          ? eb.or([eb('owner', '=', actor), eb('department_id', '=', caller.id)])
          : eb('owner', '=', actor),
      )
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    if (!row || !ctx.blobs.has(h)) return undefined;
    if (row.owner !== actor)
      await ctx.audit.record({ actor, action: 'material.lookup', subject: `material:${row.id}` });
    return row;
  };

  // The first form (kept for existing clients): 200 with headers when stored, 404 when not.
  app.head('/api/materials/by-hash/:sha256', async (req, reply) => {
    const row = await storedByHash(req, (req.params as { sha256: string }).sha256);
    if (!row) return reply.status(404).send();
    return reply
      .status(200)
      .header('x-material-id', row.id)
      .header('x-content-length', String(row.size))
      .send();
  });

  // The form <material-uploader> uses: "not stored yet" is the normal case of a new upload, so it is a
  // 200 answer `{stored: false}`, not a 404 that every browser logs as a failed request.
  app.get('/api/materials/lookup', async (req, reply) => {
    const sha256 = (req.query as { sha256?: unknown } | undefined)?.sha256;
    if (typeof sha256 !== 'string') throw badRequest('give the content hash as ?sha256=<hex>');
    const row = await storedByHash(req, sha256);
    reply.header('cache-control', 'no-store');
    return row ? { stored: true, id: row.id, size: Number(row.size) } : { stored: false };
  });

  // Instant upload: a new material from content the caller already stored.
  app.post('/api/materials', async (req, reply) => {
    const caller = await ctx.auth.caller(req);
    if (!caller) throw unauthorized();
    const b = (req.body ?? {}) as Record<string, unknown>;
    const h = typeof b.sha256 === 'string' ? b.sha256.toLowerCase() : '';
    if (!SHA256_HEX.test(h)) throw badRequest('sha256 must be a SHA-256 hex digest');
    const prev = await ctx.db
      .selectFrom('materials')
      .selectAll()
      .where('sha256', '=', h)
      .where('owner', '=', actorOf(caller))
      .limit(1)
      .executeTakeFirst();
    if (!prev || !ctx.blobs.has(h))
      throw notFound('upload the content first: it is not among your materials', 'CONTENT_UNKNOWN');
    const row: MaterialsTable = {
      id: randomBytes(16).toString('hex'),
      sha256: h,
      size: Number(prev.size),
      name: cleanText(b.name, 255, prev.name),
      type: cleanText(b.type, 128, prev.type),
      requirement: cleanText(b.requirement, 128, prev.requirement),
      owner: actorOf(caller),
      created_at: new Date().toISOString(),
      department_id: b.department === undefined ? prev.department_id : await departmentOf(b.department),
    };
    // a re-used content counts against the owner's quota like an upload of it
    await materials.admit(null, row.owner, row.size, async (trx) => {
      await trx.insertInto('materials').values(row).execute();
      await ctx.audit.append(trx, {
        actor: row.owner,
        action: 'material.reuse',
        subject: `material:${row.id}:${h}`,
      });
    });
    return reply.status(201).send(publicMaterial(row));
  });

  const readable = async (req: FastifyRequest) => {
    const caller = await ctx.auth.caller(req);
    if (!caller) throw unauthorized();
    const { id } = req.params as { id: string };
    if (!ID.test(id)) throw notFound('no such material');
    const row = await ctx.db.selectFrom('materials').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('no such material');
    if (!canRead(caller, row)) throw notFound('no such material');
    return { row, caller };
  };

  /** Every read of a material (personal data) leaves an audit entry with who read what. */
  const readAudited = async (req: FastifyRequest, action: 'material.read' | 'material.download') => {
    const { row, caller } = await readable(req);
    await ctx.audit.record({ actor: actorOf(caller), action, subject: `material:${row.id}:${row.sha256}` });
    return { row, caller };
  };

  const signaturesOf = (materialId: string) =>
    ctx.db
      .selectFrom('material_signatures')
      .selectAll()
      .where('material_id', '=', materialId)
      .orderBy('verified_at')
      .execute();

  app.get('/api/materials/:id', async (req) => {
    const { row } = await readAudited(req, 'material.read');
    const m = publicMaterial(row, await signaturesOf(row.id));
    // The verdict recorded on arrival stands (the server witnessed the signature then); a signer
    // certificate this server revoked since is shown beside it, from the same rows as the CRL.
    for (const sig of m.signatures) {
      if (sig.trust !== 'trusted' || !sig.signer.serialNumber) continue;
      const st = await ctx.ca.status(sig.signer.serialNumber);
      if (st.status === 'revoked')
        Object.assign(sig, {
          signerRevocation: { revokedAt: st.revokedAt.toISOString(), reason: st.reason },
        });
    }
    return m;
  });

  /**
   * The applicant's signature over a material (电子材料签名): a detached CMS SignedData whose
   * message-digest is the material's SHA-256, as <material-uploader> makes it with
   * createCadesSignature({documentDigest}). Verified against the stored bytes before anything is
   * kept; a signature that does not verify is refused (422) and leaves nothing behind. Sending the
   * same signature again answers with the recorded one.
   */
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/pkcs7-signature', 'application/pkcs7-mime', 'application/octet-stream'],
      { parseAs: 'buffer', bodyLimit: SIGNATURE_BYTES },
      (_r, b, done) => done(null, b),
    );
    scope.post('/api/materials/:id/signatures', { bodyLimit: SIGNATURE_BYTES }, async (req, reply) => {
      const { row: material, caller } = await readable(req);
      if (material.owner !== actorOf(caller))
        throw forbidden('only the applicant who handed in a material can sign it');
      if (material.type === 'application/pkcs7-signature')
        throw unprocessable('a signature cannot itself be signed here', 'SIGNATURE_OF_SIGNATURE');
      if (!Buffer.isBuffer(req.body) || req.body.length === 0)
        throw badRequest('send the detached CMS as DER (application/pkcs7-signature)', 'SIGNATURE_MISSING');
      const cms = new Uint8Array(req.body);
      const report = await verifyDetachedSignature(
        cms,
        {
          sha256: Buffer.from(material.sha256, 'hex'),
          // a signature with another digest algorithm: hash the stored bytes with it
          digest: async (hash) => {
            const h = createHash(hash.toLowerCase().replace('-', ''));
            for await (const chunk of ctx.blobs.stream(material.sha256)) h.update(chunk as Buffer);
            return new Uint8Array(h.digest());
          },
        },
        // the server's current CRL: a certificate it revoked a moment ago no longer signs materials
        { trustAnchors: [ctx.trustPem], crls: (await ctx.ca.currentCrls()).map((c) => c.der) },
      );
      if (report.integrity !== 'ok' || report.status === 'invalid' || !report.signer) {
        const why = report.reasons.join('; ') || report.integrity;
        throw unprocessable(
          report.integrity === 'digest-mismatch'
            ? `the signature is not over this material: ${why}`
            : `the signature does not verify: ${why}`,
          report.integrity === 'ok' ? 'SIGNATURE_REJECTED' : 'SIGNATURE_INVALID',
        );
      }
      const { sha256 } = await ctx.blobs.putBytes(cms);
      const existing = await ctx.db
        .selectFrom('material_signatures')
        .innerJoin('materials', 'materials.id', 'material_signatures.id')
        .selectAll('material_signatures')
        .where('material_signatures.material_id', '=', material.id)
        .where('materials.sha256', '=', sha256)
        .executeTakeFirst();
      if (existing) return reply.status(200).send(publicSignature(existing));
      const now = new Date().toISOString();
      const sigMaterial: MaterialsTable = {
        id: randomBytes(16).toString('hex'),
        sha256,
        size: cms.length,
        name: `${material.name || material.id}.p7s`.slice(0, 255),
        type: 'application/pkcs7-signature',
        requirement: material.requirement,
        owner: material.owner,
        created_at: now,
        department_id: material.department_id,
      };
      const sig: MaterialSignaturesTable = {
        id: sigMaterial.id,
        material_id: material.id,
        signer_subject: report.signer.subject,
        signer_common_name: report.signer.commonName,
        signer_serial: report.signer.serialNumber ?? '',
        signer_issuer: report.signer.issuer ?? '',
        integrity: report.integrity,
        trust: report.trust,
        status: report.status,
        reasons: JSON.stringify(report.reasons),
        verified_at: now,
      };
      await ctx.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('blobs')
          .values({ sha256, size: cms.length, created_at: now })
          .onConflict((oc) => oc.column('sha256').doNothing())
          .execute();
        await trx.insertInto('materials').values(sigMaterial).execute();
        await trx.insertInto('material_signatures').values(sig).execute();
        await ctx.audit.append(trx, {
          actor: material.owner,
          action: 'material.sign',
          subject: `material:${material.id}:${material.sha256}:signature:${sig.id}:${report.trust}`,
        });
      });
      return reply.status(201).send(publicSignature(sig));
    });
  });

  app.get('/api/materials/:id/content', async (req, reply) => {
    const { row } = await readAudited(req, 'material.download');
    return reply
      .type(/^[\w.+-]+\/[\w.+-]+$/.test(row.type) ? row.type : 'application/octet-stream')
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(row.name || row.id)}`)
      .header('content-length', String(row.size))
      .header('x-content-sha256', row.sha256)
      .header('x-content-type-options', 'nosniff')
      .send(ctx.blobs.stream(row.sha256));
  });
}
