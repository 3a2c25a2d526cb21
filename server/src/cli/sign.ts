/** `sidian sign`: signs or seals a PDF with a PKCS#12 file; writes nothing unless it succeeds. */
import {
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import {
  SidianError,
  setSm2BasePointTable,
  signerFromPkcs12,
  signerFromRemote,
  signerFromSm2,
  signerHash,
  signPdfUpdate,
  type Rect,
  type SealMode,
  type SignatureUpdate,
  type SignOptions,
} from '@sidian/core';
import { openFile, type OpenFile } from '../file-source';
import { THREAD_HASH_MIN, type EarlyInput } from '../hash-thread.mjs';
import { UsageError, parse, readPassword } from './args';

/**
 * `early`: the input as server/bin/sidian.mjs opened it at the process's start, its hash already
 * under way on a thread (hash-thread.mjs); used when it is the file these arguments name.
 */
export async function signCommand(args: string[], early?: EarlyInput): Promise<number> {
  // one process, one or a few SM2 operations: no table of G's multiples (setSm2BasePointTable)
  setSm2BasePointTable(false);
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    p12: { type: 'string' },
    password: { type: 'string' },
    'password-file': { type: 'string' },
    'pkcs11-label': { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    image: { type: 'string' },
    page: { type: 'string' },
    rect: { type: 'string' },
    mode: { type: 'string' },
    reason: { type: 'string' },
    location: { type: 'string' },
    contact: { type: 'string' },
    field: { type: 'string' },
    tsa: { type: 'string' },
    certify: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('只能给一个输入文件 sign takes exactly one input file');
  if (!values.output) throw new UsageError('缺少输出文件 sign needs -o OUT.pdf');
  if (!values.p12 && !values['pkcs11-label'] && !values.key)
    throw new UsageError(
      '缺少 PKCS#12 文件 sign needs --p12 FILE (或 or --pkcs11-label LABEL --cert PEM: 硬件密码模块中的密钥 a key in an HSM)',
    );
  const input = positionals[0]!;
  const output = values.output;
  // said before the copy beside the output fails on it (whose error names the input)
  if (!statSync(dirname(output), { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`输出文件夹不存在 the output folder does not exist: ${dirname(output)}`);

  let page: number | undefined;
  if (values.page !== undefined) {
    page = Number(values.page);
    if (!Number.isInteger(page))
      throw new UsageError(`页码必须是整数 --page must be an integer, not "${values.page}"`);
  }
  let rect: Rect | undefined;
  if (values.rect !== undefined) {
    const parts = values.rect.split(',').map((s) => Number(s.trim()));
    if (parts.length !== 4 || parts.some((x) => !Number.isFinite(x)))
      throw new UsageError('位置格式为 x,y,w,h（磅）--rect must be x,y,w,h in points');
    rect = { x: parts[0]!, y: parts[1]!, width: parts[2]!, height: parts[3]! };
  }
  const mode = values.mode as SealMode | undefined;
  if (mode && !['single', 'every-page', 'seam'].includes(mode))
    throw new UsageError(`--mode 只能是 must be single, every-page or seam`);
  let certify: 1 | 2 | 3 | undefined;
  if (values.certify !== undefined) {
    if (!['1', '2', '3'].includes(values.certify)) throw new UsageError('--certify 只能是 must be 1, 2 or 3');
    certify = Number(values.certify) as 1 | 2 | 3;
  }

  const image = values.image ? readFileSync(values.image) : undefined;
  // asked before anything is written (a prompt may be left with Ctrl-C)
  const password = !values.key && !values['pkcs11-label'] ? await readPassword(values) : undefined;
  // the input is copied and hashed while the key is being loaded (startSigning)
  // a --key is an SM2 key (the others come in PKCS#12): its digest is SM3
  const started = startSigning(input, output, values.key ? 'SM3' : 'SHA-256', early);
  let signer;
  try {
    signer = values.key
      ? await pemKeySigner(values.key, values.cert)
      : values['pkcs11-label']
        ? await pkcs11Signer(values['pkcs11-label'], values.cert)
        : await p12Signer(values.p12!, password);
  } catch (e) {
    await started.abandon();
    throw e;
  }
  // the key decides the digest: a PKCS#12 file may hold an SM2 key (SM3) or a P-384 one (SHA-384),
  // and the hash begun before it was read is then replaced (file-source.ts)
  const digest = signerHash(signer);
  started.file.hashAhead(digest);
  if (digest === 'SM3' && started.file.size >= THREAD_HASH_MIN) {
    // the input's SM3 runs on a thread for a while: this thread has the time now for G's table
    // and the random generator's start, which the signature would otherwise do after the hash
    setSm2BasePointTable('now');
    crypto.getRandomValues(new Uint8Array(32));
  }
  const result = await finishSigning(started, {
    signer,
    image: image ? new Uint8Array(image.buffer, image.byteOffset, image.byteLength) : undefined,
    mode,
    page,
    rect,
    reason: values.reason,
    location: values.location,
    contactInfo: values.contact,
    field: values.field,
    tsa: values.tsa,
    certify,
  });
  process.stderr.write(`signed ${input} -> ${output} (field "${result.field}")\n`);
  return 0;
}

/**
 * A seal key on a PKCS#11 token (docs/production.md): the module, token and PIN from
 * SIDIAN_PKCS11_MODULE, SIDIAN_PKCS11_TOKEN and SIDIAN_PKCS11_PIN_FILE (or SIDIAN_PKCS11_PIN) — never
 * from the command line —, the certificate (and its chain after it) from `--cert`.
 */
async function pkcs11Signer(label: string, certFile: string | undefined) {
  if (!certFile)
    throw new UsageError('--pkcs11-label needs --cert PEM (the certificate, its chain after it)');
  const { fromPem } = await import('../pki/pem');
  const { Pkcs11Token } = await import('../pki/pkcs11');
  const module = process.env.SIDIAN_PKCS11_MODULE;
  const pinFile = process.env.SIDIAN_PKCS11_PIN_FILE;
  const pin = pinFile ? readFileSync(pinFile, 'utf8').replace(/\r?\n$/, '') : process.env.SIDIAN_PKCS11_PIN;
  if (!module || pin === undefined)
    throw new UsageError(
      '--pkcs11-label needs SIDIAN_PKCS11_MODULE and SIDIAN_PKCS11_PIN_FILE (or SIDIAN_PKCS11_PIN)',
    );
  const [certificate, ...chain] = fromPem(readFileSync(certFile, 'utf8'), 'CERTIFICATE');
  if (!certificate) throw new UsageError(`${certFile} holds no PEM certificate`);
  const token = await Pkcs11Token.open({ module, token: process.env.SIDIAN_PKCS11_TOKEN || undefined, pin });
  process.once('exit', () => token.close());
  const signDigest = token.digestSigner(label);
  return signerFromRemote({ certificate, chain, signDigest: (digest) => signDigest(digest) });
}

/**
 * An SM2 (国密) key in an unencrypted PKCS#8 PEM file (`openssl genpkey -algorithm SM2`), with its
 * certificate (and chain after it) from `--cert`. Other keys go in a PKCS#12 file.
 */
async function pemKeySigner(keyFile: string, certFile: string | undefined) {
  if (!certFile) throw new UsageError('--key needs --cert PEM (the certificate, its chain after it)');
  const { fromPem } = await import('../pki/pem');
  const keyText = readFileSync(keyFile, 'utf8');
  if (keyText.includes('ENCRYPTED PRIVATE KEY'))
    throw new UsageError(`${keyFile}: 不支持加密的私钥 encrypted keys are not supported here; use --p12`);
  const [key] = fromPem(keyText, 'PRIVATE KEY');
  if (!key) throw new UsageError(`${keyFile} holds no PEM PRIVATE KEY`);
  const [certificate, ...chain] = fromPem(readFileSync(certFile, 'utf8'), 'CERTIFICATE');
  if (!certificate) throw new UsageError(`${certFile} holds no PEM certificate`);
  return signerFromSm2(key, certificate, chain);
}

/** The PKCS#12 signer; without any password given, a refusal says how to give one. */
async function p12Signer(file: string, password: string | undefined) {
  const p12 = readFileSync(file);
  try {
    return await signerFromPkcs12(p12, password ?? '');
  } catch (e) {
    if (password === undefined && e instanceof SidianError && e.code === 'P12_BAD_PASSWORD')
      throw new UsageError(
        `${file} 需要密码 needs a password: --password-file F, SIDIAN_P12_PASSWORD, or run on a terminal to be asked`,
      );
    throw e;
  }
}

/**
 * Signs the PDF at `input` into `output` as `sidian sign` does. input ‖ update goes to a temporary
 * file beside the output, then is renamed: never a half-written output. The kernel copies the
 * input (copy_file_range) while the signature is being computed; only the parts of the input that
 * signing needs are read into memory, the rest is hashed from the file in chunks.
 */
export async function signFile(
  input: string,
  output: string,
  options: SignOptions,
): Promise<SignatureUpdate> {
  return finishSigning(startSigning(input, output), options);
}

interface StartedSigning {
  input: string;
  output: string;
  file: OpenFile;
  tmp: string;
  copying: Promise<void>;
  /** Closes the file and removes the copy: nothing was signed. */
  abandon(): Promise<void>;
}

/**
 * The work of signing that needs no key, started at once: the copy of the input beside the output
 * (the output is input ‖ update) and the SHA-256 of the whole input, which is the first and largest
 * part of the signature's digest (ISO 32000-1 §12.8.1: the first ByteRange range runs from byte 0
 * to /Contents in the update, after the whole input). Both run while the key is decrypted and the
 * signature's objects are planned. `hash` is the signer's digest as far as it can be told before
 * the key is loaded (SM3 for an SM2 key file, SHA-256 otherwise); when the key wants another
 * (a PKCS#12 file holding an SM2 or P-384 key), signCommand's second hashAhead replaces it.
 */
function startSigning(
  input: string,
  output: string,
  hash: 'SHA-256' | 'SM3' = 'SHA-256',
  early?: EarlyInput,
): StartedSigning {
  const file = openFile(input, early);
  file.hashAhead(hash);
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  const copying = copyFile(input, tmp);
  // a failure is seen (and reported) where the copy is awaited
  copying.catch(() => undefined);
  return {
    input,
    output,
    file,
    tmp,
    copying,
    async abandon() {
      await copying.catch(() => undefined);
      rmSync(tmp, { force: true });
      file.close();
    },
  };
}

async function finishSigning(started: StartedSigning, options: SignOptions): Promise<SignatureUpdate> {
  const { input, output, file, tmp, copying } = started;
  let fd: number | undefined;
  try {
    const result = await signPdfUpdate(file, options);
    await copying;
    fd = openSync(tmp, 'r+');
    if (fstatSync(fd).size !== file.size) throw new Error(`${input} changed while it was being signed`);
    let o = 0;
    while (o < result.update.length)
      o += writeSync(fd, result.update, o, result.update.length - o, file.size + o);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, output);
    return result;
  } catch (e) {
    await copying.catch(() => undefined);
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    file.close();
  }
}

export { SidianError };
