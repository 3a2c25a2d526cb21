// Node-side commands for the elements' browser tests (executeServerCommand from
// @web/test-runner-commands): fixtures made by the repository's generators, a test PKI made with
// openssl, and verification of the bytes a browser produced with pdfsig and Sidian's own verifier.
//
//   'sidian-pki'    {who: 'seal'|'citizen'} -> {keyPkcs8, certificate, chain[], trustAnchor} (base64 DER)
//   'sidian-verify' {name, pdf (base64)}    -> {pdfsig: {code, stdout}, report}
//   'sidian-network' {reset?: true}         -> {requests: [url]} the page asked for (DevTools) and the
//                                              test server served (so workers' fetches count too)
//                                              since the last reset
//   'sidian-sm2-cert' {csr (base64 DER)}    -> {certificate, chain[], trustAnchor} from an SM2 test
//                                              CA (openssl ca: checks the request's SM2 signature)
//   'sidian-gb-seal' {holder (base64 DER SM2 certificate), picture (base64 PNG), name, type, esID,
//                   days?: [from, to] relative to now, within the maker's certificate}
//                   -> {seal (base64 DER SESeal)} made with core makeSeal by a maker certified by
//                   the SM2 test CA (so 'sidian-verify' trusts it)
//   'sidian-sm3'    {data: base64[]}         -> hex[]: Node's OpenSSL sm3 of each
//   'sidian-ink'    {name, pdf (base64), page, rects: [{x, y, width, height}] (PDF points)}
//                   -> {pdftoppm: number[], mutool: number[]}: dark pixels (grey < 160 at 144 dpi) in each
//                   rectangle of the page as poppler's pdftoppm and MuPDF's mutool draw it
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT_DIR = path.join(ROOT, 'tests', '.generated', 'browser');

register();

const b64 = (bytes) => Buffer.from(bytes).toString('base64');

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
        stdout: String(stdout) + String(stderr),
      });
    });
  });
}

export function sidianNodeCommands() {
  let pki;
  let verifyPdf;
  let opensslPki;
  let sm2Ca;
  let sm2Serial = 0;
  let sidianCore;
  let sealMaker;
  const networkLog = new WeakMap();
  /** Every URL the dev server was asked for (pages and workers alike), for 'sidian-network'. */
  const served = [];
  return {
    name: 'sidian-node-commands',
    serve(context) {
      served.push(context.url);
      return undefined;
    },
    async serverStart() {
      const [{ generateInputPdfs }, { generateImages }, paths, openssl, core] = await Promise.all([
        import('../fixtures/pdfs.ts'),
        import('../fixtures/images.ts'),
        import('../fixtures/paths.ts'),
        import('../helpers/openssl-pki.ts'),
        import('../../packages/core/src/index.ts'),
      ]);
      await Promise.all([generateInputPdfs(paths.INPUTS_DIR), generateImages(paths.IMAGES_DIR)]);
      verifyPdf = core.verifyPdf;
      sidianCore = core;
      opensslPki = openssl;
      const dir = openssl.makeTempDir('sidian-wtr-');
      const ca = openssl.createCa(dir, { subject: '/C=CN/O=Sidian Test/CN=Sidian Browser Test Root CA' });
      const seal = openssl.issueCertificate(ca, {
        name: 'seal',
        subject: '/C=CN/O=四电市/CN=四电市数据管理局',
      });
      const citizen = openssl.issueCertificate(ca, { name: 'citizen', subject: '/C=CN/CN=张三' });
      pki = { ca, seal, citizen };
      mkdirSync(OUT_DIR, { recursive: true });
    },
    async executeCommand({ command, payload, session }) {
      if (command === 'sidian-sm3') {
        return payload.data.map((d) => createHash('sm3').update(Buffer.from(d, 'base64')).digest('hex'));
      }
      if (command === 'sidian-network') {
        const page = session.browser.getPage(session.id);
        if (!networkLog.has(page)) {
          const log = [];
          networkLog.set(page, log);
          // puppeteer 24 attaches dedicated workers to the page's network manager: their requests
          // are reported here too
          page.on('request', (r) => log.push(r.url()));
        }
        const log = networkLog.get(page);
        // the runner's own traffic (its session API) is not the page's
        const requests = [...log, ...served.map((u) => `served: ${u}`)].filter(
          (u) => !/\/__web-(test-runner|dev-server)/.test(u),
        );
        if (payload?.reset) {
          log.length = 0;
          served.length = 0;
        }
        return { requests };
      }
      if (command === 'sidian-pki') {
        const who = pki[payload?.who ?? 'seal'];
        return {
          keyPkcs8: b64(who.keyPkcs8),
          certificate: b64(who.certDer),
          chain: [b64(pki.ca.certDer)],
          trustAnchor: b64(pki.ca.certDer),
        };
      }
      if (command === 'sidian-sm2-cert' || command === 'sidian-gb-seal') {
        sm2Ca ??= opensslPki.createCa(path.dirname(pki.ca.dir), {
          name: 'sm2-ca',
          key: 'sm2',
          subject: '/C=CN/O=Sidian Test/CN=Sidian Browser Test SM2 Root CA',
        });
        if (command === 'sidian-gb-seal') {
          if (!sealMaker) {
            const m = opensslPki.issueCertificate(sm2Ca, { name: 'seal-maker', key: 'sm2', subject: '/C=CN/CN=四电测试制章者', days: 30 });
            sealMaker = sidianCore.signerFromSm2(m.keyPkcs8, m.certDer, [sm2Ca.certDer]);
          }
          const [from, to] = payload.days ?? [-0.005, 29.5]; // within the maker's 30 days (issued an hour back)
          const seal = await sidianCore.makeSeal({
            maker: sealMaker,
            name: payload.name,
            type: payload.type ?? 1,
            holderCertificates: [new Uint8Array(Buffer.from(payload.holder, 'base64'))],
            picture: { type: 'PNG', data: new Uint8Array(Buffer.from(payload.picture, 'base64')), width: 42, height: 42 },
            validStart: new Date(Date.now() + from * 86_400_000),
            validEnd: new Date(Date.now() + to * 86_400_000),
            esID: payload.esID,
          });
          return { seal: b64(seal) };
        }
        const n = ++sm2Serial;
        const csr = path.join(sm2Ca.dir, `browser-${n}.csr`);
        const cert = path.join(sm2Ca.dir, `browser-${n}.pem`);
        writeFileSync(csr, opensslPki.derToPem(Buffer.from(payload.csr, 'base64'), 'CERTIFICATE REQUEST'));
        const r = await run('openssl', [
          'ca',
          '-batch',
          '-notext',
          '-utf8',
          '-preserveDN',
          '-config',
          sm2Ca.configFile,
          '-extfile',
          sm2Ca.configFile,
          '-extensions',
          'ext_signing',
          '-md',
          'sm3',
          '-sigopt',
          opensslPki.SM2_DISTID,
          '-vfyopt',
          opensslPki.SM2_DISTID,
          '-days',
          '30',
          '-in',
          csr,
          '-out',
          cert,
        ]);
        if (r.code !== 0) return { error: r.stdout };
        return {
          certificate: b64(opensslPki.pemToDer(readFileSync(cert, 'utf8'))),
          chain: [b64(sm2Ca.certDer)],
          trustAnchor: b64(sm2Ca.certDer),
        };
      }
      if (command === 'sidian-verify') {
        const bytes = Buffer.from(payload.pdf, 'base64');
        const name = String(payload.name ?? 'out').replace(/[^\w.-]/g, '_');
        const file = path.join(OUT_DIR, `${name}.pdf`);
        writeFileSync(file, bytes);
        const pdfsig = await run('pdfsig', [file]);
        const anchors = sm2Ca ? [pki.ca.certDer, sm2Ca.certDer] : [pki.ca.certDer];
        const report = await verifyPdf(new Uint8Array(bytes), { trustAnchors: anchors });
        return { file: path.relative(ROOT, file), pdfsig, report: JSON.parse(JSON.stringify(report)) };
      }
      if (command === 'sidian-ink') {
        const name = String(payload.name ?? 'ink').replace(/[^\w.-]/g, '_');
        const file = path.join(OUT_DIR, `${name}.pdf`);
        writeFileSync(file, Buffer.from(payload.pdf, 'base64'));
        const page = String(payload.page ?? 1);
        const a = await run('pdftoppm', [
          '-gray',
          '-r',
          '144',
          '-f',
          page,
          '-l',
          page,
          '-singlefile',
          file,
          path.join(OUT_DIR, `${name}-poppler`),
        ]);
        if (a.code) throw new Error(`pdftoppm: ${a.stdout}`);
        const b = await run('mutool', [
          'draw',
          '-q',
          '-r',
          '144',
          '-c',
          'gray',
          '-o',
          path.join(OUT_DIR, `${name}-mupdf.pgm`),
          file,
          page,
        ]);
        if (b.code) throw new Error(`mutool draw: ${b.stdout}`);
        const count = (pgm) => (payload.rects ?? []).map((r) => inkIn(pgm, r, 2));
        return {
          pdftoppm: count(readPgm(path.join(OUT_DIR, `${name}-poppler.pgm`))),
          mutool: count(readPgm(path.join(OUT_DIR, `${name}-mupdf.pgm`))),
        };
      }
      return undefined;
    },
  };
}

/** A binary PGM (P5, 8 bit) as {width, height, data}. */
function readPgm(file) {
  const buf = readFileSync(file);
  const tokens = [];
  let i = 0;
  while (tokens.length < 4) {
    while (/\s/.test(String.fromCharCode(buf[i]))) i++;
    if (buf[i] === 0x23) {
      while (buf[i] !== 0x0a) i++;
      continue;
    }
    let t = '';
    while (!/\s/.test(String.fromCharCode(buf[i]))) t += String.fromCharCode(buf[i++]);
    tokens.push(t);
  }
  if (tokens[0] !== 'P5') throw new Error(`${file}: not a binary PGM`);
  return { width: Number(tokens[1]), height: Number(tokens[2]), data: buf.subarray(i + 1) };
}

/** Dark pixels inside a rectangle in PDF points (origin bottom-left) of a page drawn at `scale` px/pt. */
function inkIn(pgm, r, scale) {
  let n = 0;
  const x0 = Math.max(0, Math.floor(r.x * scale));
  const x1 = Math.min(pgm.width, Math.ceil((r.x + r.width) * scale));
  const y0 = Math.max(0, Math.floor(pgm.height - (r.y + r.height) * scale));
  const y1 = Math.min(pgm.height, Math.ceil(pgm.height - r.y * scale));
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (pgm.data[y * pgm.width + x] < 160) n++;
  return n;
}
