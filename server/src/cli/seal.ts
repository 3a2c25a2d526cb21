/**
 * `sidian seal make|show|verify`: GB/T 38540-2020 electronic seals (印章数据 SESeal) and the
 * signatures made with them (电子签章数据 SES_Signature).
 * verify exits like `sidian verify`: 0 valid, 1 invalid, 2 indeterminate, 4 unreadable input.
 */
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import {
  isSidianError,
  makeSeal,
  parseSeal,
  parseSesSignature,
  SEAL_TYPES,
  signerFromPkcs12,
  signerFromSm2,
  SidianError,
  verifySealedPdf,
  verifySeal,
  verifySesSignature,
  type SESeal,
  type SesSignature,
  type SealVerification,
  type Signer,
} from '@sidian/core';
import { UsageError, describeFileError, parse, readPassword } from './args';

export async function sealCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'make') return makeCommand(rest);
  if (sub === 'show') return showCommand(rest);
  if (sub === 'verify') return verifyCommand(rest);
  throw new UsageError(
    sub ? `未知子命令 unknown subcommand "seal ${sub}"` : '请给出子命令 seal needs make, show or verify',
  );
}

/** PEM blocks with `label` (or the file as one DER value when it is not PEM). */
function readDerList(file: string, label: string, option: string): Uint8Array[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UsageError(`${option}: ${describeFileError(e) ?? (e as Error).message}`);
  }
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN')) return [new Uint8Array(bytes)];
  const out: Uint8Array[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] === label) out.push(new Uint8Array(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64')));
  }
  if (!out.length) throw new UsageError(`${option}: ${file} 中没有 holds no PEM ${label}`);
  return out;
}

function parseTime(value: string, option: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime()))
    throw new UsageError(`${option} 不是有效的 ISO-8601 时间 is not an ISO-8601 time: ${value}`);
  return d;
}

/** The picture's type from its first bytes (GB/T 38540 §7.1: PNG, JPG, GIF, SVG ...). */
function pictureType(data: Uint8Array): string {
  if (data[0] === 0x89 && data[1] === 0x50 && data[2] === 0x4e && data[3] === 0x47) return 'PNG';
  if (data[0] === 0xff && data[1] === 0xd8) return 'JPG';
  if (data[0] === 0x47 && data[1] === 0x49 && data[2] === 0x46) return 'GIF';
  const head = new TextDecoder().decode(data.subarray(0, 256));
  if (/<svg|<\?xml/.test(head)) return 'SVG';
  throw new UsageError('--picture 只支持 PNG、JPG、GIF、SVG the picture must be PNG, JPG, GIF or SVG');
}

const EXTENSION: Record<string, string> = {
  PNG: 'png',
  JPG: 'jpg',
  JPEG: 'jpg',
  GIF: 'gif',
  SVG: 'svg',
  OFD: 'ofd',
};

async function makerSigner(values: {
  p12?: string;
  key?: string;
  cert?: string;
  password?: string;
  'password-file'?: string;
}): Promise<Signer> {
  if (values.key) {
    if (!values.cert) throw new UsageError('--key needs --cert PEM (the maker certificate)');
    const keyText = readFileSync(values.key, 'utf8');
    if (keyText.includes('ENCRYPTED PRIVATE KEY'))
      throw new UsageError(
        `${values.key}: 不支持加密的私钥 encrypted keys are not supported here; use --p12`,
      );
    const [key] = readDerList(values.key, 'PRIVATE KEY', '--key');
    const [certificate, ...chain] = readDerList(values.cert, 'CERTIFICATE', '--cert');
    return signerFromSm2(key!, certificate!, chain);
  }
  if (!values.p12) throw new UsageError('缺少制章者密钥 seal make needs --p12 FILE or --key PEM --cert PEM');
  const password = await readPassword(values);
  try {
    return await signerFromPkcs12(readFileSync(values.p12), password ?? '');
  } catch (e) {
    if (password === undefined && e instanceof SidianError && e.code === 'P12_BAD_PASSWORD')
      throw new UsageError(
        `${values.p12} 需要密码 needs a password: --password-file F, SIDIAN_P12_PASSWORD, or run on a terminal to be asked`,
      );
    throw e;
  }
}

async function makeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    p12: { type: 'string' },
    password: { type: 'string' },
    'password-file': { type: 'string' },
    key: { type: 'string' },
    cert: { type: 'string' },
    holder: { type: 'string', multiple: true },
    picture: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string' },
    'valid-from': { type: 'string' },
    'valid-to': { type: 'string' },
    size: { type: 'string' },
    'es-id': { type: 'string' },
    'cert-digests': { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError(`多余的参数 unexpected argument "${positionals[0]}"`);
  if (!values.output) throw new UsageError('缺少输出文件 seal make needs -o SEAL.esl');
  if (!values.holder?.length)
    throw new UsageError('缺少持章者证书 seal make needs --holder PEM (repeatable)');
  if (!values.picture) throw new UsageError('缺少印章图片 seal make needs --picture PNG|JPG|GIF|SVG');
  if (!values.name) throw new UsageError('缺少印章名称 seal make needs --name NAME');
  if (!values['valid-to']) throw new UsageError('缺少有效期 seal make needs --valid-to ISO-8601');
  const type = values.type === undefined ? 1 : Number(values.type);
  if (!Number.isInteger(type) || type < 1)
    throw new UsageError(`--type 必须是正整数 must be a positive integer, not "${values.type}"`);
  let width = 40;
  let height = 40;
  if (values.size !== undefined) {
    const m = /^(\d+)(?:x(\d+))?$/.exec(values.size);
    if (!m) throw new UsageError('--size 格式为 must be W or WxH in millimetres, e.g. 42x42');
    width = Number(m[1]);
    height = Number(m[2] ?? m[1]);
  }
  const holderCertificates = values.holder.flatMap((f) => readDerList(f, 'CERTIFICATE', '--holder'));
  let data: Uint8Array;
  try {
    data = new Uint8Array(readFileSync(values.picture));
  } catch (e) {
    throw new UsageError(`--picture: ${describeFileError(e) ?? (e as Error).message}`);
  }
  const maker = await makerSigner(values);
  const der = await makeSeal({
    maker,
    name: values.name,
    type,
    holderCertificates,
    certListType: values['cert-digests'] ? 2 : 1,
    picture: { type: pictureType(data), data, width, height },
    validStart: values['valid-from'] ? parseTime(values['valid-from'], '--valid-from') : new Date(),
    validEnd: parseTime(values['valid-to'], '--valid-to'),
    esID: values['es-id'],
  });
  writeFileSync(values.output, der);
  process.stderr.write(`seal ${parseSeal(der).esID} -> ${values.output}\n`);
  return 0;
}

/** A seal or a signature, whichever the file holds. */
function readSes(file: string): { seal: SESeal; signature?: SesSignature } {
  const bytes = new Uint8Array(readFileSync(file));
  try {
    return { seal: parseSeal(bytes) };
  } catch (sealError) {
    try {
      const signature = parseSesSignature(bytes);
      return { seal: signature.seal, signature };
    } catch {
      throw sealError;
    }
  }
}

const iso = (d: Date | null) => (d ? d.toISOString().replace('.000Z', 'Z') : '-');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function certSummary(der: Uint8Array): Promise<string> {
  try {
    const { X509Certificate } = await import('node:crypto');
    const c = new X509Certificate(der);
    return `${c.subject.replace(/\n/g, ', ')} (serial ${c.serialNumber})`;
  } catch {
    return `(${der.length} bytes)`;
  }
}

function sealJson(seal: SESeal) {
  return {
    format: seal.format,
    header: seal.header,
    esID: seal.esID,
    type: seal.property.type,
    typeName: SEAL_TYPES[seal.property.type] ?? null,
    name: seal.property.name,
    certListType: seal.property.certListType,
    certs: seal.property.certs.map((c) => Buffer.from(c).toString('base64')),
    certDigests: seal.property.certDigests.map((d) => ({ type: d.type, value: hex(d.value) })),
    createDate: iso(seal.property.createDate),
    validStart: iso(seal.property.validStart),
    validEnd: iso(seal.property.validEnd),
    picture: {
      type: seal.picture.type,
      bytes: seal.picture.data.length,
      width: seal.picture.width,
      height: seal.picture.height,
    },
    makerCertificate: Buffer.from(seal.makerCertificate).toString('base64'),
    signatureAlgorithm: seal.signatureAlgorithm,
    timeStamp: !!seal.timeStamp,
  };
}

async function sealLines(seal: SESeal): Promise<string[]> {
  const p = seal.property;
  const typeName = SEAL_TYPES[p.type];
  const lines = [
    `格式 format:            ${seal.format} (版本 version ${seal.header.version}, 厂商 vid ${seal.header.vid})`,
    `印章标识 esID:          ${seal.esID}`,
    `印章名称 name:          ${p.name}`,
    `印章类型 type:          ${p.type}${typeName ? ` ${typeName.zh} ${typeName.en}` : ''}`,
    `制作时间 created:       ${iso(p.createDate)}`,
    `有效期 valid:           ${iso(p.validStart)} — ${iso(p.validEnd)}`,
    `印章图片 picture:       ${seal.picture.type}, ${seal.picture.data.length} bytes, ${seal.picture.width}×${seal.picture.height} mm`,
    `制章者 maker:           ${await certSummary(seal.makerCertificate)}`,
  ];
  if (p.certListType === 1) {
    for (const c of p.certs) lines.push(`签章者证书 holder:      ${await certSummary(c)}`);
  } else {
    for (const d of p.certDigests) lines.push(`签章者证书摘要 holder:  ${d.type} ${hex(d.value)}`);
  }
  return lines;
}

async function showCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    json: { type: 'boolean' },
    'picture-out': { type: 'string' },
  });
  if (positionals.length !== 1)
    throw new UsageError('请给出一个印章文件 seal show takes one SESeal or SES_Signature file');
  const { seal, signature } = readSes(positionals[0]!);
  if (values['picture-out']) writeFileSync(values['picture-out'], seal.picture.data);
  if (values.json) {
    const out: Record<string, unknown> = { seal: sealJson(seal) };
    if (signature) out.signature = signatureJson(signature);
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  const lines = await sealLines(seal);
  if (signature) {
    lines.unshift(
      `电子签章 signature:     ${signature.format}, 版本 version ${signature.version}`,
      `签章时间 signed at:     ${iso(signature.time)}`,
      `原文属性 property:      ${signature.propertyInfo}`,
      `原文杂凑 data hash:     ${hex(signature.dataHash)}`,
      `签章者 signer:          ${await certSummary(signature.signerCertificate)}`,
      `时间戳 time-stamp:      ${signature.timeStamp ? '有 present (not checked)' : '无 none'}`,
      `-- 印章 seal --`,
    );
  }
  if (values['picture-out'])
    lines.push(
      `印章图片已保存 picture written to ${values['picture-out']} (${EXTENSION[seal.picture.type.toUpperCase()] ?? 'bin'})`,
    );
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

function signatureJson(s: SesSignature) {
  return {
    format: s.format,
    version: s.version,
    time: iso(s.time),
    propertyInfo: s.propertyInfo,
    dataHash: hex(s.dataHash),
    signerCertificate: Buffer.from(s.signerCertificate).toString('base64'),
    signatureAlgorithm: s.signatureAlgorithm,
    timeStamp: !!s.timeStamp,
  };
}

const EXIT: Record<SealVerification['status'], number> = { valid: 0, invalid: 1, indeterminate: 2 };
const LABEL: Record<SealVerification['status'], string> = {
  valid: '有效 valid',
  invalid: '无效 INVALID',
  indeterminate: '无法确定 indeterminate',
};

async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    trust: { type: 'string', multiple: true },
    crl: { type: 'string', multiple: true },
    at: { type: 'string' },
    data: { type: 'string' },
    'data-hash': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new UsageError('请给出一个印章文件 seal verify takes one SESeal or SES_Signature file');
  const trustAnchors = (values.trust ?? []).flatMap((f) => readDerList(f, 'CERTIFICATE', '--trust'));
  const crls = (values.crl ?? []).flatMap((f) => readDerList(f, 'X509 CRL', '--crl'));
  const time = values.at ? parseTime(values.at, '--at') : undefined;
  let data: Uint8Array | undefined;
  if (values.data) {
    try {
      data = new Uint8Array(readFileSync(values.data));
    } catch (e) {
      throw new UsageError(`--data: ${describeFileError(e) ?? (e as Error).message}`);
    }
  }
  let dataHash: Uint8Array | undefined;
  if (values['data-hash'] !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(values['data-hash']))
      throw new UsageError('--data-hash 须为 64 位十六进制 must be 64 hex digits (SM3)');
    dataHash = new Uint8Array(Buffer.from(values['data-hash'], 'hex'));
  }
  const file = positionals[0]!;
  if (isPdfFile(file)) return verifyPdfCommand(file, { trustAnchors, crls, time, json: values.json });
  let result;
  let kind: 'seal' | 'signature';
  try {
    const { seal, signature } = readSes(file);
    kind = signature ? 'signature' : 'seal';
    const options = { trustAnchors, crls, time };
    result = signature
      ? await verifySesSignature(signature, { ...options, data, dataHash })
      : await verifySeal(seal, options);
  } catch (e) {
    const msg = isSidianError(e) ? `${e.code}: ${e.message}` : (describeFileError(e) ?? (e as Error).message);
    process.stderr.write(`sidian: ${file}: ${msg}\n`);
    if (values.json)
      process.stdout.write(
        JSON.stringify({ error: isSidianError(e) ? e.code : 'UNREADABLE', message: (e as Error).message }) +
          '\n',
      );
    return 4;
  }
  if (values.json) {
    process.stdout.write(
      JSON.stringify(
        {
          kind,
          status: result.status,
          trust: result.trust,
          seal: {
            esID: result.seal.esID,
            name: result.seal.property.name,
            type: result.seal.property.type,
            validStart: iso(result.seal.property.validStart),
            validEnd: iso(result.seal.property.validEnd),
          },
          problems: result.problems,
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    const lines = [
      `${file}: ${LABEL[result.status]} (${kind === 'seal' ? '电子印章 seal' : '电子签章 signature'} ${result.seal.esID} "${result.seal.property.name}", 制章者 maker trust ${result.trust})`,
    ];
    for (const p of result.problems) lines.push(`  - ${p.code}: ${p.messageZh} / ${p.message}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  return EXIT[result.status];
}

function isPdfFile(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(1024);
      const n = readSync(fd, head, 0, 1024, 0);
      return head.subarray(0, n).toString('latin1').includes('%PDF-');
    } finally {
      closeSync(fd);
    }
  } catch {
    return false; // unreadable: reported by the seal reader
  }
}

/**
 * A PDF sealed with a GB/T 38540 seal (gm/ses/pdf.ts): the PAdES verdict of each signature with
 * its seal's name, type, validity and verdict. --trust anchors both the signers and the makers.
 */
async function verifyPdfCommand(
  file: string,
  o: { trustAnchors: Uint8Array[]; crls: Uint8Array[]; time?: Date; json?: boolean },
): Promise<number> {
  let report;
  try {
    report = await verifySealedPdf(new Uint8Array(readFileSync(file)), {
      trustAnchors: o.trustAnchors,
      crls: o.crls,
      at: o.time,
      sealTrustAnchors: o.trustAnchors,
    });
  } catch (e) {
    const msg = isSidianError(e) ? `${e.code}: ${e.message}` : (describeFileError(e) ?? (e as Error).message);
    process.stderr.write(`sidian: ${file}: ${msg}\n`);
    return 4;
  }
  if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else {
    const label = report.status === 'unsigned' ? '未签名 unsigned' : LABEL[report.status];
    const lines = [`${file}: ${label} (${report.signatures.length} signature(s))`];
    for (const s of report.signatures) {
      lines.push(
        `  [${s.status}] ${s.field} ${s.algorithm ?? ''} by ${s.signer?.commonName ?? '?'}; trust ${s.trust}`,
      );
      if (s.gbSeal)
        lines.push(
          `      电子印章 seal ${s.gbSeal.esID} "${s.gbSeal.name}" (类型 type ${s.gbSeal.type}, 有效期 valid ${s.gbSeal.validStart} — ${s.gbSeal.validEnd}): ${s.gbSeal.status}, 制章者 maker ${s.gbSeal.trust}`,
        );
      for (const r of s.reasons) lines.push(`      - ${r}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  }
  return report.status === 'unsigned' ? 3 : EXIT[report.status];
}
