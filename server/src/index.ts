/** @sidian/server: the verification server as a library (the `sidian` CLI lives in ./cli). */
export { buildServer, type ServerOptions, type SidianServer } from './app';
export { DEFAULT_LIMITS, type Limits } from './context';
export { verifyAuditChain, auditHash, type AuditRow, type ChainCheck } from './audit';
export { openDatabase, type Db, type DbKind } from './db/index';
export { generateDevPki, writeDevPki, loadOrCreateServerPki, DEMO_DEPARTMENT } from './pki/dev-pki';
export { writePkcs12 } from './pki/pkcs12';
export { TsaResponder, DEFAULT_TSA_POLICY, type TsaResponderOptions } from './tsa/responder';
