/**
 * A real RFC 3161 timestamp authority for tests: a tiny Node HTTP server that answers each
 * `application/timestamp-query` POST by running `openssl ts -reply` with a TSA certificate
 * (extendedKeyUsage critical timeStamping) issued by its own test CA.
 *
 *   const tsa = await startOpensslTsa(dir);
 *   const token = await requestTimestamp(tsa.url, digest, 'SHA-256');
 *   // openssl ts -verify -digest <hex> -in token.der -token_in -CAfile tsa.caFile -untrusted tsa.tsaCertFile
 *   await tsa.close();
 *
 * Accepted policies: TSA_POLICY (default) and TSA_OTHER_POLICY; any other requested policy is
 * rejected by OpenSSL (status rejection, failInfo unacceptedPolicy) — handy for error tests.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { OPENSSL, createCa, issueCertificate, type Ca, type Entity, type KeySpec } from './openssl-pki';

export const TSA_POLICY = '1.3.6.1.4.1.99999.3161.1';
export const TSA_OTHER_POLICY = '1.3.6.1.4.1.99999.3161.2';

export interface OpensslTsa {
  /** http://127.0.0.1:<port>/tsa */
  url: string;
  /** PEM of the CA that issued the TSA certificate (trust anchor for `openssl ts -verify`). */
  caPem: string;
  caFile: string;
  tsaCertPem: string;
  tsaCertFile: string;
  ca: Ca;
  tsa: Entity;
  /** Number of requests answered so far. */
  readonly requests: number;
  close(): Promise<void>;
}

export interface OpensslTsaOptions {
  /** Reuse this CA instead of creating "Sidian Test TSA CA". */
  ca?: Ca;
  /** TSA key type (default p-256). */
  key?: KeySpec;
  /** Digest the TSA signs with (openssl name, default sha256). */
  signerDigest?: string;
  /** Validity of the TSA certificate in days (default 365): short-lived TSAs for archive renewal. */
  days?: number;
}

/** Starts the TSA on 127.0.0.1 (random port). Files go to `<dir>/tsa-shim/`. */
export async function startOpensslTsa(dir: string, options: OpensslTsaOptions = {}): Promise<OpensslTsa> {
  const base = path.join(dir, 'tsa-shim');
  mkdirSync(base, { recursive: true });
  const ca =
    options.ca ?? createCa(base, { name: 'tsa-ca', subject: '/C=CN/O=Sidian Test/CN=Sidian Test TSA CA' });
  const tsa = issueCertificate(ca, {
    name: 'tsa',
    subject: '/C=CN/O=Sidian Test/CN=Sidian Test Time Stamping Authority',
    key: options.key ?? 'p-256',
    profile: 'tsa',
    days: options.days,
  });
  const work = path.join(base, 'work');
  mkdirSync(work, { recursive: true });
  const serialFile = path.join(work, 'tsaserial');
  writeFileSync(serialFile, '01\n');
  const config = path.join(work, 'tsa.cnf');
  writeFileSync(
    config,
    `[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
serial = ${serialFile}
crypto_device = builtin
signer_cert = ${tsa.certFile}
certs = ${ca.certFile}
signer_key = ${tsa.keyFile}
signer_digest = ${options.signerDigest ?? 'sha256'}
default_policy = ${TSA_POLICY}
other_policies = ${TSA_OTHER_POLICY}
digests = sha1, sha256, sha384, sha512
accuracy = secs:1, millisecs:500
clock_precision_digits = 0
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`,
  );

  let count = 0;
  // openssl ts -reply updates the serial file: one request at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const reply = (query: Buffer): Promise<Buffer> => {
    const n = ++count;
    const q = path.join(work, `q${n}.tsq`);
    const r = path.join(work, `r${n}.tsr`);
    const run = queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          writeFileSync(q, query);
          execFile(
            OPENSSL,
            ['ts', '-reply', '-config', config, '-queryfile', q, '-out', r],
            (err, _out, stderr) => {
              if (err) reject(new Error(`openssl ts -reply failed: ${stderr}`));
              else resolve(readFileSync(r));
            },
          );
        }),
    );
    queue = run.catch(() => undefined);
    return run;
  };

  const server = http.createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      if (req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(415, { 'Content-Type': 'text/plain' }).end('expected application/timestamp-query');
        return;
      }
      reply(Buffer.concat(chunks)).then(
        (body) =>
          res
            .writeHead(200, { 'Content-Type': 'application/timestamp-reply', 'Content-Length': body.length })
            .end(body),
        (e: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(e.message),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/tsa`,
    caPem: ca.certPem,
    caFile: ca.certFile,
    tsaCertPem: tsa.certPem,
    tsaCertFile: tsa.certFile,
    ca,
    tsa,
    get requests() {
      return count;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
