/**
 * The `sidian` command line (DESIGN.md "Interfaces"): sign, verify, extend, seal, serve, renew-timestamps,
 * dev-pki, audit.
 * Errors print one line `sidian: CODE: message` on stderr; no stack traces for expected failures.
 *
 * Start-up cost matters (a one-shot `sidian verify` should feel like `pdfsig`): this module imports
 * only node:fs and ./args; each subcommand is imported when it runs. `sign`, `verify` and `extend`
 * (which need only core) are bundled into server/dist/cli by scripts/build-cli.mjs; the commands
 * that start the server's machinery (serve, renew-timestamps, dev-pki, audit) run from the
 * TypeScript sources through tsx, loaded only for them.
 */
import { readFileSync } from 'node:fs';
import { UsageError, describeFileError } from './args';
import { loadCachedCommand } from './cached-module';
import type { EarlyInput } from '../hash-thread.mjs';

interface Command {
  summary: string;
  usage: string;
  run(args: string[], early?: EarlyInput): Promise<number>;
}

/**
 * Commands that need the server (Fastify, the database, worker threads whose files sit beside the
 * TypeScript sources) are imported from server/src/cli through tsx. The URL is the same from
 * server/src/cli/main.ts and from the built server/dist/cli/main.mjs.
 */
async function serverModule<T>(name: string): Promise<T> {
  if (!import.meta.url.endsWith('.ts')) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  return (await import(new URL(`../../src/cli/${name}.ts`, import.meta.url).href)) as T;
}

/** sign, verify and extend: from the built CommonJS file and its code cache when there is one. */
async function coreModule<T>(name: string, fromSource: () => Promise<T>): Promise<T> {
  return loadCachedCommand<T>(name, import.meta.url) ?? (await fromSource());
}

const COMMANDS: Record<string, Command> = {
  sign: {
    summary: '签名或盖章 sign or seal a PDF',
    usage: `sidian sign IN.pdf -o OUT.pdf (--p12 FILE [--password-file F | --password PW] | --pkcs11-label L --cert PEM
            | --key PEM --cert PEM)
            [--image PNG|JPG] [--page N] [--rect x,y,w,h] [--mode single|every-page|seam]
            [--reason T] [--location T] [--contact T] [--field NAME] [--tsa URL] [--certify 1|2|3]

  -o, --output OUT.pdf   签名后的文件 where the signed PDF goes (written only on success)
  --p12 FILE             PKCS#12 文件 the signing key and certificate
  --pkcs11-label L       硬件密码模块中的密钥 a key on a PKCS#11 token (HSM), with --cert PEM (its certificate,
                         chain after it); module, token and PIN from SIDIAN_PKCS11_MODULE, SIDIAN_PKCS11_TOKEN,
                         SIDIAN_PKCS11_PIN_FILE (docs/production.md)
  --key PEM              国密 SM2 私钥（PKCS#8 PEM，不加密）an SM2 private key (unencrypted PKCS#8 PEM), with
                         --cert PEM (its certificate, chain after it)
  --password-file F      从文件读取 PKCS#12 密码 read the PKCS#12 password from a file (first line)
  --password PW          PKCS#12 密码 the password (visible to other users in \`ps\`; prefer the above)
                         also: environment variable SIDIAN_P12_PASSWORD, or a prompt on a terminal
  --image PNG|JPG        印章或签名图片 the seal or signature picture
  --page N               页码，从 1 开始 page, 1-based (default 1; -1 the last page)
  --rect x,y,w,h         位置与大小（磅，左下角为原点）position and size in points, origin bottom-left
  --mode M               single（单页）| every-page（每页）| seam（骑缝章 seam seal across pages）
  --reason T, --location T, --contact T   签名原因、地点、联系方式 reason, location, contact
  --field NAME           签名域名称 the signature field's name (unique; default signature-N)
  --tsa URL              时间戳服务 RFC 3161 time-stamp authority (level B-T)
  --certify 1|2|3        认证签名 certify: 1 no changes, 2 form filling and signing, 3 also annotations`,
    run: async (args, early) => (await coreModule('sign', () => import('./sign'))).signCommand(args, early),
  },
  verify: {
    summary: '验证签名 verify the signatures of PDFs',
    usage: `sidian verify FILE.pdf... [--trust PEM]... [--crl FILE]... [--ocsp FILE]... [--at ISO-8601] [--json]

  --trust PEM    信任锚（可多次）trust anchor certificates (repeatable)
  --crl FILE     证书吊销列表（可多次）certificate revocation lists, DER or PEM (repeatable)
  --ocsp FILE    OCSP 响应（可多次）OCSP responses, DER (repeatable), used like the CRLs
  --at ISO       验证时间 validate as at this time (default: now); a signature whose certificate has
                 expired or been revoked since is still valid when a trusted time-stamp shows it
                 existed before, with revocation data from then (long-term validation, B-LT/B-LTA)
  --time ISO     同 --at（旧名称）the older name of --at
  --json         输出 JSON 报告 print the report as JSON (validationTime and evidence per signature)

  exit 0 有效 valid, 1 无效 invalid, 2 无法确定 indeterminate, 3 未签名 unsigned, 4 无法读取 unreadable`,
    run: async (args) => (await coreModule('verify', () => import('./verify'))).verifyCommand(args),
  },
  extend: {
    summary: '添加长期验证数据 add long-term validation data (PAdES B-LT / B-LTA)',
    usage: `sidian extend IN.pdf -o OUT.pdf --ltv [--tsa URL] [--trust PEM]... [--crl FILE]... [--ocsp FILE]...
              [--offline] [--json]

  -o, --output OUT.pdf   扩展后的文件 where the extended PDF goes (written only on success; IN is
                         left as it is and is a byte-exact prefix of OUT, an incremental update)
  --ltv                  长期验证 add a DSS with the signers' and time-stamp authorities' chains and
                         their CRLs / OCSP responses (level B-LT)
  --tsa URL              存档时间戳 also add an RFC 3161 document time-stamp over it (B-LTA); a
                         signature without a time-stamp first gets one (B-T)
  --trust PEM            证书链补充（可多次）CA certificates to complete the chains (repeatable)
  --crl FILE             证书吊销列表（可多次）CRLs, DER or PEM, used instead of fetching (repeatable)
  --ocsp FILE            OCSP 响应（可多次）OCSP responses, DER or PEM (repeatable)
  --offline              不联网 fetch nothing: use only --trust, --crl and --ocsp (otherwise CRLs come
                         from the certificates' distribution points and OCSP from their AIA)
  --json                 输出 JSON print {output, level, added} as JSON`,
    run: async (args) => (await coreModule('extend', () => import('./extend'))).extendCommand(args),
  },
  seal: {
    summary: '电子印章 GB/T 38540 electronic seals: make, show, verify',
    usage: `sidian seal make -o SEAL.esl (--p12 FILE [--password-file F | --password PW] | --key PEM --cert PEM)
                 --holder PEM... --picture PNG|JPG|GIF|SVG --name NAME --valid-to ISO
                 [--type N] [--valid-from ISO] [--size WxH] [--es-id ID] [--cert-digests]
       sidian seal show FILE [--picture-out FILE] [--json]
       sidian seal verify FILE|SEALED.pdf [--trust PEM]... [--crl FILE]... [--at ISO] [--data FILE | --data-hash HEX] [--json]

  FILE is an SESeal (印章数据, .esl) or an SES_Signature (电子签章数据); V1 (GM/T 0031-2014), V4 (GB/T 38540-2020)
  and ofdrw's V5 are read; make writes V4, signed by the maker (制章者) with SM2 over SM3;
  verify also takes a PDF sealed with such a seal (the SESeal in its SM2 signature's CMS)
  --p12 FILE / --key PEM --cert PEM   制章者的 SM2 密钥与证书 the seal maker's SM2 key and certificate
  --holder PEM           持章者（签章者）证书（可多次）the holders' certificates (repeatable)
  --picture FILE         印章图片 the seal picture
  --name NAME            印章名称 the seal's registered name
  --type N               印章类型 1 单位印章 organisation, 2 个人印章 personal, 3 业务专用章 business (default 1)
  --valid-from ISO       有效期起 valid from (default now); --valid-to ISO 有效期止 valid until
  --size WxH             显示尺寸（毫米）display size in millimetres (default 40x40)
  --es-id ID             印章标识 the seal's identifier (default random)
  --cert-digests         以证书摘要（SM3）列出持章者 list the holders by SM3 digest (certListType 2)
  --picture-out FILE     导出印章图片 write the seal's picture to FILE
  --trust PEM            信任锚（可多次）trust anchors for the maker's and signer's certificates (repeatable)
  --at ISO               验证时间 validate as at this time (default: now; a signature's own time for its seal)
  --data FILE            原文 the signed data (its SM3 digest must be the signature's dataHash)
  --data-hash HEX        原文杂凑 or the SM3 digest itself
  --json                 输出 JSON print JSON

  verify exit 0 有效 valid, 1 无效 invalid, 2 无法确定 indeterminate, 3 未签名 unsigned (PDF), 4 无法读取 unreadable`,
    run: async (args) => (await import('./seal')).sealCommand(args),
  },
  serve: {
    summary: '启动验证服务 run the verification server',
    usage: `sidian serve [--dev] [--port 8080] [--data ./data] [--host 127.0.0.1] [--cors ORIGIN]...
             [--public-url URL] [--quiet]

  production unless --dev: the operator's CA, TSA and seal keys are required (docs/production.md)

  -p, --port N        端口 port (default 8080, or PORT)
  -d, --data DIR      数据文件夹 data folder (default ./data, or SIDIAN_DATA)
  --host ADDR         监听地址 address to listen on (default 127.0.0.1, or HOST)
  --cors ORIGIN       允许跨域的来源（可多次）origins allowed to call the API (repeatable)
  --public-url URL    对外地址 the URL users reach the server at (QR codes, links)
  --dev               开发模式 development mode: a made-up PKI, test tokens, loopback addresses only
  --production        生产模式（默认）production mode (the default; accepted for old scripts)
  --quiet             不输出请求日志 no request log
  environment: DATABASE_URL (PostgreSQL), SIDIAN_PORTAL_PUBLIC_KEY, SIDIAN_PORTAL_ISSUER,
  SIDIAN_PORTAL_AUDIENCE, SIDIAN_PORTAL_JWKS_URL, SIDIAN_PORTAL_MAX_TOKEN_LIFETIME, SIDIAN_CA_*,
  SIDIAN_TSA_*, SIDIAN_SEAL_*, SIDIAN_PKCS11_*, SIDIAN_TRUST_ANCHORS, SIDIAN_VERIFY_LIMIT_MB,
  SIDIAN_PSEUDONYM_SECRET_FILE, SIDIAN_CA_OPERATORS, SIDIAN_TRUSTED_PROXY, SIDIAN_TSA_POLICY,
  SIDIAN_AUDIT_ANCHOR_MINUTES, SIDIAN_USER_QUOTA_MB, SIDIAN_CONCURRENT_UPLOADS, SIDIAN_UPLOAD_EXPIRY_HOURS, ...`,
    run: async (args) => (await serverModule<typeof import('./serve')>('serve')).serveCommand(args),
  },
  'renew-timestamps': {
    summary: '更新存档时间戳 renew the archive time-stamps of stored licences',
    usage: `sidian renew-timestamps [--dev] [--data ./data] [--within-days 90] [--json]

  every stored licence whose newest archive time-stamp's TSA certificate expires within the window
  gets a DSS and a fresh document time-stamp from the server's current TSA (B-LTA stays provable);
  run with the environment of \`sidian serve\` (DATABASE_URL, the operator's PKI: docs/production.md)

  -d, --data DIR         数据文件夹 data folder (default ./data, or SIDIAN_DATA)
  --within-days N        时间窗口（天）renew when the TSA certificate expires within N days (0-3650, default 90)
  --dev                  开发模式 use the development PKI of the data folder (as \`sidian serve --dev\`)
  --json                 输出 JSON print {checked, renewed, failed} as JSON

  exit 0 全部成功 every renewal succeeded, 1 有失败 some failed`,
    run: async (args) => (await serverModule<typeof import('./renew')>('renew')).renewCommand(args),
  },
  'dev-pki': {
    summary: '生成测试用证书 make a development PKI (for testing only)',
    usage: `sidian dev-pki --out DIR [--password PW]

  -o, --out DIR    输出文件夹 where the files go
  --password PW    PKCS#12 密码 password of the PKCS#12 files (default: random, written beside them)`,
    run: async (args) => (await serverModule<typeof import('./dev-pki')>('dev-pki')).devPkiCommand(args),
  },
  audit: {
    summary: '检查或锚定审计日志 check the audit trail, or export its time-stamped heads',
    usage: `sidian audit verify [--data ./data] [--anchors FILE]... [--tsa-cert PEM] [--json]
       sidian audit anchor-export --out FILE [--data ./data]

  -d, --data DIR     数据文件夹 data folder (DATABASE_URL for PostgreSQL)
  --anchors FILE     另行保存的已签名日志头（可多次）heads exported earlier, kept where the operator
                     cannot change them (repeatable): rewritten or truncated history is found
  --tsa-cert PEM     时间戳服务证书 the TSA certificate that signed the heads
  --out FILE         导出已签名的日志头 write the time-stamped heads to FILE (docs/audit-anchoring.md)
  --json             输出 JSON print the result as JSON`,
    run: async (args) => (await serverModule<typeof import('./audit')>('audit')).auditCommand(args),
  },
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return (
    `四电 Sidian ${version()} — 电子证照、电子印章、电子签名、电子材料 e-licences, e-seals, e-signatures, e-materials\n\n` +
    `usage: sidian <command> [options]   (sidian <command> --help for its options)\n\n` +
    Object.entries(COMMANDS)
      .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
      .join('\n') +
    `\n\n  --help, -h     帮助 this help\n  --version, -v  版本 the version\n`
  );
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Runs `sidian ARGV`. `early`: the input of a `sign`, opened and being hashed since the process
 * started (server/bin/sidian.mjs); released by the caller when the command did not take it.
 */
export async function main(argv: string[], early?: EarlyInput): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === '--version' || name === '-v' || name === 'version') {
      process.stdout.write(`sidian ${version()}\n`);
      return 0;
    }
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const topic = name === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
      process.stdout.write(topic ? `usage: ${topic.usage}\n` : overview());
      return name === undefined ? 2 : 0;
    }
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name]! : undefined;
    if (!command) throw new UsageError(`未知命令 unknown command "${name}"`);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`usage: ${command.usage}\n`);
      return 0;
    }
    return await command.run(rest, early);
  } catch (e) {
    if (e instanceof UsageError || (e as Error | undefined)?.name === 'UsageError') {
      const command = name && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
      process.stderr.write(
        `sidian: ${(e as Error).message}\n` +
          (command
            ? `usage: ${command.usage.split('\n\n')[0]}\n(sidian ${name} --help)\n`
            : `(sidian --help)\n`),
      );
      return 2;
    }
    const exit = name === 'verify' || (name === 'seal' && rest[0] === 'verify') ? 4 : 1;
    const code = (e as { code?: unknown })?.code;
    if (e instanceof Error && e.name === 'SidianError' && typeof code === 'string') {
      process.stderr.write(`sidian: ${code}: ${e.message}\n`);
      return exit;
    }
    const words = describeFileError(e);
    if (words) {
      process.stderr.write(`sidian: ${words}\n`);
      return exit;
    }
    process.stderr.write(`sidian: 内部错误 internal error: ${(e as Error)?.message ?? String(e)}\n`);
    return 70;
  }
}
