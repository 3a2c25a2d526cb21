/**
 * The database: Kysely over SQLite (better-sqlite3, a file in the data directory) by default, or
 * PostgreSQL when a database URL is given. Migrations run on open.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import type { Database } from './schema';

export type Db = Kysely<Database>;
export type DbKind = 'sqlite' | 'postgres';

export interface OpenedDatabase {
  db: Db;
  kind: DbKind;
  close(): Promise<void>;
}

const migrations: Record<string, Migration> = {
  '0001_initial': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against the schema as it was, not the typed one
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('counters')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('departments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('credit_code', 'text', (c) => c.notNull())
        .addColumn('api_key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('certificates')
        .addColumn('serial', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('subject_hash', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'text', (c) => c.notNull())
        .addColumn('not_after', 'text', (c) => c.notNull())
        .addColumn('der', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revocation_reason', 'integer')
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .execute();
      await db.schema
        .createTable('licences')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('number', 'text', (c) => c.notNull())
        .addColumn('type_code', 'text', (c) => c.notNull())
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('holder_name', 'text', (c) => c.notNull())
        .addColumn('holder_id_type', 'text', (c) => c.notNull())
        .addColumn('holder_id_hash', 'text', (c) => c.notNull())
        .addColumn('issuer_name', 'text', (c) => c.notNull())
        .addColumn('issuer_code', 'text', (c) => c.notNull())
        .addColumn('department_id', 'text', (c) => c.notNull().references('departments.id'))
        .addColumn('issue_date', 'text', (c) => c.notNull())
        .addColumn('valid_from', 'text', (c) => c.notNull())
        .addColumn('valid_until', 'text')
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('registered_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revocation_reason', 'text')
        .execute();
      await db.schema
        .createIndex('licences_number')
        .on('licences')
        .columns(['issuer_code', 'number'])
        .unique()
        .execute();
      await db.schema
        .createTable('blobs')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('materials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('requirement', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('materials_owner_sha')
        .on('materials')
        .columns(['owner', 'sha256'])
        .execute();
    },
  },
  '0002_material_signatures': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    async up(db: Kysely<any>) {
      // an applicant's detached CMS over a material, verified on arrival; its bytes are a material of their own
      await db.schema
        .createTable('material_signatures')
        .addColumn('id', 'text', (c) => c.primaryKey()) // the material row holding the CMS bytes
        .addColumn('material_id', 'text', (c) => c.notNull())
        .addColumn('signer_subject', 'text', (c) => c.notNull())
        .addColumn('signer_common_name', 'text')
        .addColumn('signer_serial', 'text', (c) => c.notNull())
        .addColumn('signer_issuer', 'text', (c) => c.notNull())
        .addColumn('integrity', 'text', (c) => c.notNull())
        .addColumn('trust', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull()) // JSON array of strings
        .addColumn('verified_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('material_signatures_material')
        .on('material_signatures')
        .column('material_id')
        .execute();
    },
  },
  '0003_crls': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    async up(db: Kysely<any>) {
      // every CRL the enrolment CA has signed, by CRL number (RFC 5280 §5.2.3): instances sharing one
      // database serve the same bytes for the same number; the current number is the 'crl-number' counter
      await db.schema
        .createTable('crls')
        .addColumn('number', 'bigint', (c) => c.primaryKey())
        .addColumn('this_update', 'text', (c) => c.notNull())
        .addColumn('next_update', 'text', (c) => c.notNull())
        .addColumn('der', 'text', (c) => c.notNull()) // base64
        .execute();
    },
  },
  '0004_material_department': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    async up(db: Kysely<any>) {
      // the department an application (and so its materials) is made to: the only one that reads them
      await db.schema.alterTable('materials').addColumn('department_id', 'text').execute();
      await db.schema
        .createIndex('materials_department_sha')
        .on('materials')
        .columns(['department_id', 'sha256'])
        .execute();
    },
  },
  '0005_audit_anchors': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    async up(db: Kysely<any>) {
      // time-stamped heads of the audit chain, kept apart from its rows (audit-anchor.ts)
      await db.schema
        .createTable('audit_anchors')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('token', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0006_uploads': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    async up(db: Kysely<any>) {
      // uploads in progress, for per-owner quotas and concurrency limits; the row goes at completion or expiry
      await db.schema
        .createTable('uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uploads_owner').on('uploads').column('owner').execute();
    },
  },
  '0007_cases': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    async up(db: Kysely<any>) {
      // 联办: a case routed through departments (cases.ts); every change is an event (SSE and webhooks)
      await db.schema
        .createTable('cases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('applicant', 'text', (c) => c.notNull()) // the citizen's pseudonym
        .addColumn('applicant_name', 'text', (c) => c.notNull())
        .addColumn('opened_by', 'text', (c) => c.notNull())
        .addColumn('materials', 'text', (c) => c.notNull()) // JSON array of material ids
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('stage', 'integer', (c) => c.notNull())
        .addColumn('document_sha256', 'text', (c) => c.notNull())
        .addColumn('document_size', 'bigint', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('licence_id', 'text')
        .addColumn('return_reason', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('cases_applicant').on('cases').column('applicant').execute();
      await db.schema
        .createTable('case_steps')
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull()) // "<stage>.<position>", 1-based
        .addColumn('stage', 'integer', (c) => c.notNull())
        .addColumn('department_id', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull()) // 'seal' | 'approve'
        .addColumn('field', 'text') // the prepared signature field of a seal step
        .addColumn('deadline', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull()) // waiting | active | done | returned | cancelled
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('acted_by', 'text')
        .addColumn('acted_at', 'text')
        .addColumn('reason', 'text')
        .addPrimaryKeyConstraint('case_steps_pk', ['case_id', 'step'])
        .execute();
      await db.schema
        .createIndex('case_steps_department')
        .on('case_steps')
        .columns(['department_id', 'status'])
        .execute();
      await db.schema
        .createTable('case_events')
        .addColumn('seq', 'bigint', (c) => c.primaryKey()) // the 'case-event' counter: commit order
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull()) // JSON, as SSE and webhooks send it
        .addColumn('time', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('case_events_case').on('case_events').columns(['case_id', 'seq']).execute();
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('department_id', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhooks_department').on('webhooks').column('department_id').execute();
      // the outbox: written in the transaction of the change, delivered after it (webhooks.ts)
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_id', 'text', (c) => c.notNull())
        .addColumn('department_id', 'text', (c) => c.notNull())
        .addColumn('event_seq', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull()) // pending | delivered | failed
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_event')
        .on('webhook_deliveries')
        .columns(['webhook_id', 'event_seq'])
        .unique()
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_due')
        .on('webhook_deliveries')
        .columns(['status', 'next_attempt_at'])
        .execute();
    },
  },
  '0008_seals': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    async up(db: Kysely<any>) {
      // GB/T 38540 seals made by the seal authority (routes/seals.ts); revocation is a column, never a delete
      await db.schema
        .createTable('seals')
        .addColumn('es_id', 'text', (c) => c.primaryKey())
        .addColumn('department_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'integer', (c) => c.notNull())
        .addColumn('holder_serial', 'text', (c) => c.notNull())
        .addColumn('valid_start', 'text', (c) => c.notNull())
        .addColumn('valid_end', 'text', (c) => c.notNull())
        .addColumn('der', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revocation_reason', 'text')
        .execute();
      await db.schema.createIndex('seals_department').on('seals').column('department_id').execute();
    },
  },
  '0009_sm2_ca': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    async up(db: Kysely<any>) {
      // which of the server's CAs issued a certificate: null for the P-256 CA (every older row),
      // 'sm2' for the 国密 CA; each CA's CRL lists only its own (RFC 5280 §5: a CRL is its issuer's)
      await db.schema.alterTable('certificates').addColumn('issuer_ca', 'text').execute();
      // the SM2 CA's CRLs, numbered by the same 'crl-number' counter as the P-256 CA's (crls)
      await db.schema
        .createTable('crls_sm2')
        .addColumn('number', 'bigint', (c) => c.primaryKey())
        .addColumn('this_update', 'text', (c) => c.notNull())
        .addColumn('next_update', 'text', (c) => c.notNull())
        .addColumn('der', 'text', (c) => c.notNull()) // base64
        .execute();
    },
  },
  '0010_seals_registry': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    async up(db: Kysely<any>) {
      // the SHA-256 of each seal's DER: verification compares the very seal by it, without reading
      // (or sending to the verification workers) every DER (seals/registry.ts)
      await db.schema.alterTable('seals').addColumn('der_sha256', 'text').execute();
      const rows = (await db.selectFrom('seals').select(['es_id', 'der']).execute()) as {
        es_id: string;
        der: string;
      }[];
      for (const r of rows)
        await db
          .updateTable('seals')
          .set({ der_sha256: createHash('sha256').update(Buffer.from(r.der, 'base64')).digest('hex') })
          .where('es_id', '=', r.es_id)
          .execute();
      // covering: the registry's state (count, newest, revocations) and its (esID, digest) list are
      // read from this index alone, never from the rows that carry the DER
      await db.schema
        .createIndex('seals_registry')
        .on('seals')
        .columns(['es_id', 'der_sha256', 'created_at', 'revoked_at'])
        .execute();
    },
  },
  '0011_seals_maker': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    async up(db: Kysely<any>) {
      // the maker key (base64 SubjectPublicKeyInfo) that made each registered seal: every key that
      // ever made a seal here, the current one and those it replaced, is one whose seals the
      // registry holds completely (seals/registry.ts)
      await db.schema.alterTable('seals').addColumn('maker_key', 'text').execute();
      const { parseSeal } = await import('../../../packages/core/src/gm/ses/seal');
      const { makerKeyOf } = await import('../seals/registry');
      const rows = (await db.selectFrom('seals').select(['es_id', 'der']).execute()) as {
        es_id: string;
        der: string;
      }[];
      for (const r of rows) {
        let key: string | undefined;
        try {
          key = makerKeyOf(parseSeal(new Uint8Array(Buffer.from(r.der, 'base64'))).makerCertificate);
        } catch {
          key = undefined; // an unreadable row names no maker
        }
        if (key) await db.updateTable('seals').set({ maker_key: key }).where('es_id', '=', r.es_id).execute();
      }
      await db.schema.createIndex('seals_maker').on('seals').column('maker_key').execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function openDatabase(opts: { dataDir: string; databaseUrl?: string }): Promise<OpenedDatabase> {
  let db: Db;
  let kind: DbKind;
  if (opts.databaseUrl) {
    kind = 'postgres';
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pool as never }) });
  } else {
    kind = 'sqlite';
    fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    const dbFile = path.join(opts.dataDir, 'sidian.db');
    // personal data: the file is the owner's alone (SQLite gives -wal and -shm the same mode)
    fs.closeSync(fs.openSync(dbFile, 'a', 0o600));
    fs.chmodSync(dbFile, 0o600);
    const file = new SQLite(dbFile);
    file.pragma('journal_mode = WAL');
    file.pragma('synchronous = NORMAL');
    file.pragma('foreign_keys = ON');
    file.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file as never }) });
  }
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(
      `database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`,
    );
  }
  return { db, kind, close: () => db.destroy() };
}

/** Reserves `count` consecutive values of a persistent counter; returns the first. Never hands out a value twice. */
export async function reserveCounter(db: Db, name: string, count: number): Promise<bigint> {
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('counters')
      .values({ name, value: 0 })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await trx
      .updateTable('counters')
      .set({ value: sql`value + ${count}` as never })
      .where('name', '=', name)
      .returning('value')
      .executeTakeFirstOrThrow();
    return BigInt(row.value) - BigInt(count) + 1n;
  });
}
