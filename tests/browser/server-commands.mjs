// The real Sidian server for the elements' browser tests (<licence-viewer>, <material-uploader>):
// started once per test run with a temp data directory and SQLite, CORS allowing the test page's
// origin, behind a loopback TCP proxy that the tests control (throttle, drop every connection after
// N bytes, count the bytes the browser sent). Commands (executeServerCommand):
//
//   'sidian-server'   {}  -> {url (through the proxy), directUrl, apiKey, trustPem}
//   'sidian-proxy'    {throttle?: bytes/s|0, dropAfter?: bytes|0, reset?: true} -> {bytesUp, drops, connections}
//   'sidian-licence'  {serial, signer?: 'server'|'untrusted'|'forged' (a citizen-issued "bureau")|'enrolled', register?, revoke? (true: 吊销 revoked; or 'cancelled' | 'revoked' | 'suspended'), revokeReason?, tamper?, holder?: {name, idType, idNumber},
//                      revokeCertificate? (with signer 'enrolled': revoked through the API after signing),
//                      typeCode?, typeName?, validUntil?, base?: fixture name, pages?: number}
//                     -> {pdf (base64), id, sha256}
//   'sidian-gb-sealed' {name?} -> {pdf (base64), esID, seal (base64 DER), trustPem (the server's signer anchors),
//                     makerPem (its seal authority's root)}: a GB/T 38540 seal made by the server (POST /api/seals, the dev department's
//                     SM2 seal certificate), and a PDF sealed with it (core sealPdf, SM2)
//   'sidian-seal-revoke' {esID, reason, otherDepartment?} -> {status, body} of POST /api/seals/:esID/revoke with the
//                     dev department's key, or (otherDepartment) the key of another department
//   'sidian-closed-port' {} -> {port}: a loopback port nothing listens on (a registry that cannot be reached)
//   'sidian-material' {id} -> {row, storedSha256} (what the server recorded and what its blob hashes to)
//   'sidian-check-cms' {signatureId, materialId, caDer (base64)} -> {code, stdout} of openssl cms -verify over the stored bytes
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

register();

const b64 = (bytes) => Buffer.from(bytes).toString('base64');

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout) + String(stderr) });
    });
  });
}

/** A TCP proxy to `target` whose tests can slow it, cut it, and count what the browser sent. */
function startProxy(targetPort) {
  const sockets = new Set();
  const s = { bytesUp: 0, drops: 0, connections: 0, throttle: 0, dropAfter: 0, armedAt: 0 };
  const dropAll = () => {
    s.drops++;
    s.dropAfter = 0;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
  };
  const server = net.createServer((client) => {
    s.connections++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let windowStart = Date.now();
    let windowBytes = 0;
    client.on('data', (chunk) => {
      if (process.env.SIDIAN_PROXY_DEBUG) {
        const text = chunk.subarray(0, 400).toString('latin1');
        const m = /^(PATCH|HEAD|POST|GET|DELETE|OPTIONS) (\S+)/.exec(text);
        if (m) console.log('[proxy]', m[1], m[2], /upload-offset: *(\d+)/i.exec(text)?.[1] ?? '', 'bytesUp', s.bytesUp);
      }
      if (client.destroyed) return;
      s.bytesUp += chunk.length;
      // backpressure: what the proxy counted is what reached the server (a drop loses little in flight)
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
      if (s.dropAfter && s.bytesUp - s.armedAt >= s.dropAfter) {
        dropAll();
        return;
      }
      if (s.throttle) {
        windowBytes += chunk.length;
        const due = (windowBytes / s.throttle) * 1000 - (Date.now() - windowStart);
        if (due > 0) {
          client.pause();
          setTimeout(() => upstream.writableNeedDrain || client.resume(), due);
        }
        if (Date.now() - windowStart > 1000) {
          windowStart = Date.now();
          windowBytes = 0;
        }
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, state: s, port: server.address().port, dropAll, sockets }));
  });
}

export function sidianServerCommands() {
  let server;
  let proxy;
  let dataDir;
  let apiKey;
  let trustPem;
  let core;
  let sealSigner;
  let untrustedSigner;
  let forgedSigner;
  let sealImage;
  let startPromise;
  let pageOrigins = [];

  async function start() {
    const [{ buildServer }, coreMod, licenceMod, images, paths, openssl, pdfsMod] = await Promise.all([
      import('../../server/src/app.ts'),
      import('../../packages/core/src/index.ts'),
      import('../../packages/core/src/licence/index.ts'),
      import('../fixtures/images.ts'),
      import('../fixtures/paths.ts'),
      import('../helpers/openssl-pki.ts'),
      import('../fixtures/pdfs.ts'),
    ]);
    core = { ...coreMod, ...licenceMod, sampleLicence: (await import('../../packages/core/src/licence/licence.test-helpers.ts')).sampleLicence };
    await pdfsMod.generateInputPdfs(paths.INPUTS_DIR);
    const imgs = await images.generateImages(paths.IMAGES_DIR);
    sealImage = new Uint8Array(fs.readFileSync(imgs.sealPng));
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidian-wtr-server-'));
    server = await buildServer({ dataDir, port: 0, host: '127.0.0.1', devMode: true, logger: false, corsOrigins: pageOrigins });
    const direct = await server.listen();
    apiKey = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-department.json'), 'utf8')).apiKey;
    trustPem = server.ctx.trustPem;
    proxy = await startProxy(Number(new URL(direct).port));
    const pki = path.join(dataDir, 'pki');
    sealSigner = await core.signerFromPkcs12(new Uint8Array(fs.readFileSync(path.join(pki, 'seal.p12'))), fs.readFileSync(path.join(pki, 'seal.p12.password'), 'utf8').trim());
    // a seal certificate from a CA the server does not trust: verifies, but indeterminate
    const dir = openssl.makeTempDir('sidian-wtr-untrusted-');
    const ca = openssl.createCa(dir, { subject: '/C=CN/O=Unknown/CN=Unknown Root CA' });
    const seal = openssl.issueCertificate(ca, { name: 'seal', subject: '/C=CN/O=项城市市场监督管理局/CN=项城市市场监督管理局' });
    const key = await crypto.subtle.importKey('pkcs8', seal.keyPkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    untrustedSigner = core.signerFromCryptoKey(key, seal.certDer, [ca.certDer]);
    forgedSigner = await forgedBureauSigner(direct);
    return { direct };
  }

  /**
   * The forged-authority attack (issue 14): a citizen enrols through the server, then issues a
   * "bureau" seal certificate with their own end-entity key.
   */
  async function forgedBureauSigner(url) {
    const [{ issueCertificate }, { x509 }] = await Promise.all([import('../../server/src/pki/dev-pki.ts'), import('../../server/src/pki/x509.ts')]);
    const ec = { name: 'ECDSA', namedCurve: 'P-256' };
    const citizenKeys = await crypto.subtle.generateKey(ec, false, ['sign', 'verify']);
    const { token } = await (await fetch(`${url}/api/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '张三', idNumber: '110101199003074477' }) })).json();
    const csr = await core.createCertificationRequest(citizenKeys, { commonName: 'ignored' });
    const r = await fetch(`${url}/api/enrol`, { method: 'POST', headers: { 'content-type': 'application/pkcs10', authorization: `Bearer ${token}` }, body: csr });
    if (r.status !== 201) throw new Error(`enrol: ${r.status} ${await r.text()}`);
    const citizenPem = (await r.json()).certificate;
    const citizenCert = new x509.X509Certificate(citizenPem);
    const bureauKeys = await crypto.subtle.generateKey(ec, false, ['sign', 'verify']);
    const bureau = await issueCertificate(
      { cert: citizenCert, der: new Uint8Array(citizenCert.rawData), key: citizenKeys.privateKey },
      { subject: 'C=CN, O=项城市市场监督管理局, CN=项城市市场监督管理局', publicKey: bureauKeys.publicKey, profile: 'signer', validityMs: 86400_000 },
    );
    return core.signerFromCryptoKey(bureauKeys.privateKey, new Uint8Array(bureau.rawData), [new Uint8Array(citizenCert.rawData)]);
  }

  async function licence(p) {
    const base = new Uint8Array(fs.readFileSync(path.join(ROOT, 'tests', '.generated', 'inputs', `${p.base ?? 'five-pages'}.pdf`)));
    const serial = String(p.serial ?? Date.now() % 1_000_000).padStart(6, '0');
    const sample = core.sampleLicence();
    const typeCode = p.typeCode ?? sample.typeCode;
    const overrides = {
      number: `JY${typeCode.slice(0, 4)}${serial}`,
      typeCode,
      typeName: p.typeName ?? sample.typeName,
      identifier: core.makeLicenceIdentifier({ typeCode, issuerCode: sample.issuer.creditCode, serial, version: 1 }),
      ...(p.holder ? { holder: p.holder } : {}),
      ...(p.validUntil !== undefined ? { validUntil: p.validUntil } : {}),
      ...(p.validFrom ? { validFrom: p.validFrom, issueDate: p.validFrom } : {}),
    };
    const metadata = core.sampleLicence(overrides);
    const withLicence = core.embedLicence(base, metadata, { allowIncomplete: !!p.allowIncomplete });
    let enrolled;
    if (p.signer === 'enrolled') enrolled = await enrol();
    const signer =
      p.signer === 'untrusted' ? untrustedSigner : p.signer === 'forged' ? forgedSigner : enrolled ? enrolled.signer : sealSigner;
    let pdf = await core.signPdf(withLicence, { signer, image: sealImage, page: 1, reason: '电子证照签发', location: '项城市', certify: 2 });
    if (p.register) {
      const r = await fetch(`${directUrl()}/api/licences`, { method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': 'application/pdf' }, body: pdf });
      if (r.status !== 201) throw new Error(`register: ${r.status} ${await r.text()}`);
      // the registry stores the licence extended to B-LTA: from here on, the file is the stored one
      const stored = await fetch(`${directUrl()}/api/licences/${encodeURIComponent(metadata.identifier)}/file`);
      if (stored.status !== 200) throw new Error(`stored file: ${stored.status}`);
      pdf = new Uint8Array(await stored.arrayBuffer());
    }
    if (p.revoke) {
      const r = await fetch(`${directUrl()}/api/licences/${encodeURIComponent(metadata.identifier)}/revoke`, {
        method: 'POST',
        headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({
          reason: p.revokeReason ?? '测试吊销',
          status: typeof p.revoke === 'string' ? p.revoke : 'revoked',
        }),
      });
      if (r.status !== 200) throw new Error(`revoke: ${r.status} ${await r.text()}`);
    }
    if (p.revokeCertificate && enrolled) {
      const r = await fetch(`${directUrl()}/api/certificates/${enrolled.serial}/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${enrolled.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 1 }),
      });
      if (r.status !== 200) throw new Error(`revoke certificate: ${r.status} ${await r.text()}`);
    }
    if (p.tamper) {
      // change one digit of the licence number inside licence.json (stored unfiltered), after signing
      pdf = Buffer.from(pdf);
      const at = pdf.indexOf(Buffer.from(`"number": "${metadata.number}"`, 'latin1'));
      if (at < 0) throw new Error('licence number not found');
      const digit = at + `"number": "`.length + metadata.number.length - 1;
      pdf[digit] = pdf[digit] === 0x39 ? 0x38 : pdf[digit] + 1;
      pdf = new Uint8Array(pdf);
    }
    return { pdf: b64(pdf), id: metadata.identifier, sha256: createHash('sha256').update(pdf).digest('hex'), metadata };
  }

  let otherKey;
  const otherDepartmentKey = async () =>
    (otherKey ??= server.ctx.auth.createDepartment({ name: '另一局', creditCode: '91110000000000000X' }).then((d) => d.apiKey));

  /** A seal from the server's seal authority for the dev department's SM2 certificate, and a PDF sealed with it. */
  async function gbSealed(p) {
    const pki = path.join(dataDir, 'pki');
    const pem = (f) => fs.readFileSync(path.join(pki, f), 'utf8');
    const der = (text) => new Uint8Array(Buffer.from(text.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    const r = await fetch(`${directUrl()}/api/seals`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        certificate: pem('sm2-seal.pem'),
        picture: b64(sealImage),
        name: p.name ?? '项城市市场监督管理局电子公章',
        type: 1,
        validEnd: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      }),
    });
    if (r.status !== 201) throw new Error(`POST /api/seals: ${r.status} ${await r.text()}`);
    const made = await r.json();
    const signer = core.signerFromSm2(der(pem('sm2-seal.key.pem')), der(pem('sm2-seal.pem')), [der(pem('sm2-ca.pem'))]);
    const base = new Uint8Array(fs.readFileSync(path.join(ROOT, 'tests', '.generated', 'inputs', 'five-pages.pdf')));
    const pdf = await core.sealPdf(base, { signer, seal: new Uint8Array(Buffer.from(made.seal, 'base64')), page: 1, reason: '电子印章' });
    return { pdf: b64(pdf), esID: made.esID, seal: made.seal, trustPem, makerPem: pem(path.join('seal-maker', 'root.pem')) };
  }

  /** A certificate from the server's own enrolment CA (POST /api/enrol), key in WebCrypto. */
  async function enrol() {
    const t = await fetch(`${directUrl()}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '印章管理员', idNumber: `11010119800101${String(Date.now() % 10000).padStart(4, '0')}` }),
    });
    const { token } = await t.json();
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const csr = await core.createCertificationRequest(keys, { commonName: 'ignored' });
    const r = await fetch(`${directUrl()}/api/enrol`, { method: 'POST', headers: { 'content-type': 'application/pkcs10', authorization: `Bearer ${token}` }, body: csr });
    if (r.status !== 201) throw new Error(`enrol: ${r.status} ${await r.text()}`);
    const body = await r.json();
    const der = (pem) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    return { token, serial: body.serialNumber, signer: core.signerFromCryptoKey(keys.privateKey, der(body.certificate), body.chain.map(der)) };
  }

  const directUrl = () => `http://127.0.0.1:${server.app.server.address().port}`;

  return {
    name: 'sidian-server-commands',
    serverStart({ config }) {
      const port = config.port;
      pageOrigins.push(`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://${config.hostname}:${port}`);
      pageOrigins = [...new Set(pageOrigins)];
      // started lazily by the first command: runs that test other elements do not pay for it
    },
    async serverStop() {
      if (!startPromise) return;
      proxy?.server.close();
      proxy?.dropAll();
      await server?.close();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
    // tus-js-client imports url-parse (CommonJS); the dev server serves ES modules only, and the
    // WHATWG URL does what tus-js-client asks of it (resolve a Location against the endpoint).
    // tus-js-client's "browser" field (which bundlers honour) maps its entry to lib.esm/browser.
    resolveImport({ source }) {
      if (source === 'url-parse') return '/tests/browser/url-parse-shim.js';
      if (source === 'tus-js-client') return '/node_modules/tus-js-client/lib.esm/browser/index.js';
      return undefined;
    },
    async executeCommand({ command, payload }) {
      if (!command.startsWith('sidian-') || command === 'sidian-pki' || command === 'sidian-verify') return undefined;
      startPromise ??= start();
      await startPromise;
      const url = `http://127.0.0.1:${proxy.port}`;
      switch (command) {
        case 'sidian-server':
          return { url, directUrl: directUrl(), apiKey, trustPem };
        case 'sidian-proxy': {
          const s = proxy.state;
          if (payload?.reset) Object.assign(s, { bytesUp: 0, drops: 0, connections: 0, throttle: 0, dropAfter: 0, armedAt: 0 });
          if (payload?.throttle !== undefined) s.throttle = payload.throttle;
          if (payload?.dropAfter !== undefined) {
            s.dropAfter = payload.dropAfter;
            s.armedAt = s.bytesUp;
          }
          return { bytesUp: s.bytesUp, drops: s.drops, connections: s.connections };
        }
        case 'sidian-licence':
          return licence(payload ?? {});
        case 'sidian-closed-port': {
          const probe = net.createServer();
          await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
          const { port } = probe.address();
          await new Promise((resolve) => probe.close(resolve));
          return { port };
        }
        case 'sidian-gb-sealed':
          return gbSealed(payload ?? {});
        case 'sidian-seal-revoke': {
          const r = await fetch(`${directUrl()}/api/seals/${encodeURIComponent(payload.esID)}/revoke`, {
            method: 'POST',
            headers: { 'x-api-key': payload.otherDepartment ? await otherDepartmentKey() : apiKey, 'content-type': 'application/json' },
            body: JSON.stringify({ reason: payload.reason }),
          });
          return { status: r.status, body: await r.json() };
        }
        case 'sidian-material': {
          const row = await server.ctx.db.selectFrom('materials').selectAll().where('id', '=', String(payload.id)).executeTakeFirst();
          if (!row) return { row: null, storedSha256: null };
          const stored = createHash('sha256').update(fs.readFileSync(server.ctx.blobs.pathOf(row.sha256))).digest('hex');
          return { row: { ...row, size: Number(row.size) }, storedSha256: stored };
        }
        case 'sidian-check-cms': {
          const get = async (id) => server.ctx.db.selectFrom('materials').selectAll().where('id', '=', String(id)).executeTakeFirst();
          const [sig, mat] = [await get(payload.signatureId), await get(payload.materialId)];
          if (!sig || !mat) return { code: -1, stdout: 'no such material' };
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidian-cms-'));
          const ca = path.join(dir, 'ca.pem');
          fs.writeFileSync(ca, `-----BEGIN CERTIFICATE-----\n${payload.caDer.replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
          const r = await run('openssl', [
            'cms', '-verify', '-binary', '-inform', 'DER',
            '-in', server.ctx.blobs.pathOf(sig.sha256),
            '-content', server.ctx.blobs.pathOf(mat.sha256),
            '-CAfile', ca, '-purpose', 'any', '-out', '/dev/null',
          ]);
          fs.rmSync(dir, { recursive: true, force: true });
          return r;
        }
        default:
          return undefined;
      }
    },
  };
}
