/** Table types for Kysely. Times are ISO-8601 strings; binary data is base64 text (portable across SQLite and PostgreSQL). */

export interface CountersTable {
  name: string;
  /** PostgreSQL returns bigint as a string: always read through Number(). */
  value: number | string;
}

export interface DepartmentsTable {
  id: string;
  name: string;
  credit_code: string;
  /** SHA-256 (hex) of the department's API key; the key itself is never stored. */
  api_key_hash: string;
  created_at: string;
}

export interface CertificatesTable {
  serial: string; // hex, lower case
  kind: string; // 'citizen' | 'seal' | 'tsa' | ...
  subject: string;
  subject_hash: string; // pseudonymous owner (keyed HMAC of the id number, see auth.ts)
  issued_at: string;
  not_after: string;
  der: string; // base64
  revoked_at: string | null;
  revocation_reason: number | null;
  /** The issuing CA: null for the P-256 CA, 'sm2' for the 国密 CA (migration 0007). */
  issuer_ca?: string | null;
}

export interface AuditTable {
  seq: number;
  time: string;
  actor: string;
  action: string;
  subject: string;
  prev_hash: string;
  hash: string;
}

/** A time-stamped head of the audit chain (audit-anchor.ts). */
export interface AuditAnchorsTable {
  seq: number;
  hash: string;
  time: string;
  token: string; // RFC 3161 TimeStampToken, base64 DER
}

export interface LicencesTable {
  id: string; // the licence identifier 1.2.156.3005.2....
  number: string;
  type_code: string;
  type_name: string;
  holder_name: string;
  holder_id_type: string;
  holder_id_hash: string;
  issuer_name: string;
  issuer_code: string;
  department_id: string;
  issue_date: string;
  valid_from: string;
  valid_until: string | null;
  sha256: string;
  size: number;
  metadata: string; // licence.json as registered
  status: string; // 'valid' | 'revoked'
  registered_at: string;
  revoked_at: string | null;
  revocation_reason: string | null;
}

export interface MaterialsTable {
  id: string; // the tus upload id (or a fresh id for instant uploads)
  sha256: string;
  size: number;
  name: string;
  type: string;
  requirement: string;
  owner: string; // 'citizen:<hash>' or 'department:<id>'
  created_at: string;
  /** The department the application is made to (it alone, besides the owner, reads the material). */
  department_id: string | null;
}

/** An applicant's signature over a material, as the server verified it when it arrived. */
export interface MaterialSignaturesTable {
  id: string; // the material row that holds the CMS (application/pkcs7-signature)
  material_id: string; // the signed material
  signer_subject: string;
  signer_common_name: string | null;
  signer_serial: string;
  signer_issuer: string;
  integrity: string; // always 'ok': a signature that does not verify is refused, not stored
  trust: string; // 'trusted' | 'untrusted' | 'expired' | 'revoked' | 'unknown' against the server's anchors
  status: string; // 'valid' | 'indeterminate' | 'invalid' (revoked)
  reasons: string; // JSON array
  verified_at: string;
}

/** A CRL as the enrolment CA signed it; the newest is the one whose number the 'crl-number' counter holds. */
export interface CrlsTable {
  /** PostgreSQL returns bigint as a string: always read through BigInt(). */
  number: number | string;
  this_update: string;
  next_update: string;
  der: string; // base64
}

/** An upload in progress (tus), counted against its owner's quota until it completes or expires. */
export interface UploadsTable {
  id: string;
  owner: string;
  size: number | string;
  created_at: string;
  expires_at: string;
}

export interface BlobsTable {
  sha256: string;
  size: number;
  created_at: string;
}

/** A case (办件) routed through departments (cases.ts). */
export interface CasesTable {
  id: string;
  service: string;
  applicant: string; // 'citizen:<pseudonym>'
  applicant_name: string;
  opened_by: string; // department id
  materials: string; // JSON array of material ids
  status: string; // 'in-progress' | 'returned' | 'done'
  stage: number; // the current stage, 1-based
  document_sha256: string;
  document_size: number | string;
  version: number;
  licence_id: string | null;
  return_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface CaseStepsTable {
  case_id: string;
  step: string; // "<stage>.<position>"
  stage: number;
  department_id: string;
  action: string; // 'seal' | 'approve'
  field: string | null;
  deadline: string;
  status: string; // 'waiting' | 'active' | 'done' | 'returned' | 'cancelled'
  version: number;
  acted_by: string | null;
  acted_at: string | null;
  reason: string | null;
}

export interface CaseEventsTable {
  /** PostgreSQL returns bigint as a string: always read through Number(). */
  seq: number | string;
  case_id: string;
  type: string;
  data: string;
  time: string;
}

export interface WebhooksTable {
  id: string;
  department_id: string;
  url: string;
  secret: string;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  department_id: string;
  event_seq: number | string;
  status: string; // 'pending' | 'delivered' | 'failed'
  attempts: number;
  next_attempt_at: string;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** A GB/T 38540 seal (SESeal) made by the server's seal authority for a department (routes/seals.ts). */
export interface SealsTable {
  es_id: string;
  department_id: string;
  name: string;
  /** PostgreSQL returns integer columns as numbers; read through Number() anyway. */
  type: number;
  holder_serial: string; // hex, the holder certificate's serial
  valid_start: string;
  valid_end: string;
  der: string; // base64 DER of the SESeal
  /** SHA-256 (hex) of the DER; null only in rows written before migration 0010 by an older server. */
  der_sha256: string | null;
  /** Base64 SubjectPublicKeyInfo of the maker key that made the seal; null for an unreadable row (migration 0011). */
  maker_key: string | null;
  created_at: string;
  revoked_at: string | null;
  revocation_reason: string | null;
}

export interface Database {
  cases: CasesTable;
  case_steps: CaseStepsTable;
  case_events: CaseEventsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  counters: CountersTable;
  departments: DepartmentsTable;
  certificates: CertificatesTable;
  audit_log: AuditTable;
  audit_anchors: AuditAnchorsTable;
  licences: LicencesTable;
  materials: MaterialsTable;
  material_signatures: MaterialSignaturesTable;
  blobs: BlobsTable;
  crls: CrlsTable;
  crls_sm2: CrlsTable;
  uploads: UploadsTable;
  seals: SealsTable;
}
