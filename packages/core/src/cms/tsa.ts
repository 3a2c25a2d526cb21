/** RFC 3161 Time-Stamp Protocol client (over HTTP, RFC 3161 §3.4, or a caller-supplied transport). */
import { SidianError } from '../errors';
import {
  bytesEqual,
  derAlgorithm,
  derBoolean,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  parseDer,
  readSmallInt,
  readString,
  toArrayBuffer,
} from '../pki/der';
import { HASH_LENGTH, HASH_OID } from '../algorithms';
import type { HashName } from '../signer/types';
import { parseTimestampToken, type TstInfo } from './parse';

/** Posts a DER TimeStampReq and resolves with the DER TimeStampResp. */
export type TimestampTransport = (query: Uint8Array) => Promise<Uint8Array>;

export interface TimestampRequestOptions {
  /** Send a nonce (default true: a random 64-bit value), or this exact value. */
  nonce?: boolean | bigint;
  /** Ask the TSA to include its certificate (default true). */
  certReq?: boolean;
  /** Requested policy OID. */
  policy?: string;
  /** Extra HTTP headers (e.g. Authorization) for URL transports. */
  headers?: Record<string, string>;
  /** HTTP timeout in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
}

/** How a signature gets its timestamp: a URL, a transport function, or both with options. */
export type TsaSource =
  | string
  | TimestampTransport
  | (TimestampRequestOptions & {
      url?: string;
      transport?: TimestampTransport;
      /** Digest for the message imprint (default: the signature's digest). */
      hash?: HashName;
    });

const MAX_RESPONSE = 1024 * 1024;

/** DER of a TimeStampReq (RFC 3161 §2.4.1). The hash AlgorithmIdentifier carries NULL parameters. */
export function buildTimestampRequest(
  digest: Uint8Array,
  hash: HashName,
  options: { nonce?: bigint; certReq?: boolean; policy?: string } = {},
): Uint8Array {
  const parts = [derInteger(1), derSequence(derAlgorithm(HASH_OID[hash], 'null'), derOctetString(digest))];
  if (options.policy) parts.push(derOid(options.policy));
  if (options.nonce !== undefined) parts.push(derInteger(options.nonce));
  if (options.certReq) parts.push(derBoolean(true));
  return derSequence(...parts);
}

export interface TimestampResponse {
  /** PKIStatus: 0 granted, 1 grantedWithMods, 2 rejection, 3 waiting, 4 revocationWarning, 5 revocationNotification. */
  status: number;
  statusText?: string;
  failInfo?: string[];
  /** DER of the timeStampToken (ContentInfo), verbatim from the response. */
  token?: Uint8Array;
}

const FAIL_INFO = [
  'badAlg',
  '',
  'badRequest',
  '',
  '',
  'badDataFormat',
  '',
  '',
  '',
  '',
  '',
  '',
  '',
  '',
  'timeNotAvailable',
  'unacceptedPolicy',
  'unacceptedExtension',
  'addInfoNotAvailable',
  '',
  '',
  '',
  '',
  '',
  '',
  '',
  'systemFailure',
];

/** Parses a DER TimeStampResp (RFC 3161 §2.4.2). Throws SidianError('TSA_BAD_RESPONSE'). */
export function parseTimestampResponse(der: Uint8Array): TimestampResponse {
  try {
    const resp = parseDer(der, { maxDepth: 64, maxNodes: 100_000 }).expect(0x30, 'TimeStampResp');
    const si = resp.child(0, 'status').expect(0x30, 'PKIStatusInfo');
    const out: TimestampResponse = { status: readSmallInt(si.child(0, 'status')) };
    for (const n of si.children.slice(1)) {
      if (n.tag === 0x30) out.statusText = n.children.map(readString).join('; ');
      else if (n.tag === 0x03) {
        const bits = n.content.subarray(1); // named bits; the unused-bits octet does not matter here
        const names: string[] = [];
        for (let i = 0; i < bits.length * 8; i++) {
          if (bits[i >> 3]! & (0x80 >> (i & 7))) names.push(FAIL_INFO[i] || `bit${i}`);
        }
        out.failInfo = names;
      }
    }
    const token = resp.children[1];
    if (token) out.token = token.expect(0x30, 'timeStampToken').raw.slice();
    return out;
  } catch (e) {
    throw new SidianError('TSA_BAD_RESPONSE', `unreadable timestamp response: ${(e as Error).message}`);
  }
}

function randomNonce(): bigint {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(8));
  b[0]! &= 0x7f;
  b[0]! |= 0x01; // keep it 64-bit-ish and positive
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

async function httpTransport(
  url: string,
  query: Uint8Array,
  options: TimestampRequestOptions,
): Promise<Uint8Array> {
  const f = options.fetch ?? globalThis.fetch;
  if (typeof f !== 'function') throw new SidianError('TSA_UNREACHABLE', 'fetch is not available');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 30_000);
  let res: Response;
  try {
    res = await f(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/timestamp-query',
        Accept: 'application/timestamp-reply',
        ...options.headers,
      },
      body: toArrayBuffer(query),
      signal: controller.signal,
    });
  } catch (e) {
    clearTimeout(timer);
    const why = controller.signal.aborted ? 'timed out' : ((e as Error)?.message ?? String(e));
    throw new SidianError('TSA_UNREACHABLE', `timestamp authority ${url} unreachable: ${why}`, { url });
  }
  try {
    if (!res.ok) {
      throw new SidianError('TSA_UNREACHABLE', `timestamp authority ${url} answered HTTP ${res.status}`, {
        url,
        httpStatus: res.status,
      });
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_RESPONSE)
      throw new SidianError('TSA_BAD_RESPONSE', 'timestamp response too large', { url });
    const body = new Uint8Array(await res.arrayBuffer());
    if (body.length > MAX_RESPONSE)
      throw new SidianError('TSA_BAD_RESPONSE', 'timestamp response too large', { url });
    return body;
  } catch (e) {
    if (e instanceof SidianError) throw e;
    const why = controller.signal.aborted ? 'timed out' : ((e as Error)?.message ?? String(e));
    throw new SidianError('TSA_UNREACHABLE', `reading the answer of ${url} failed: ${why}`, { url });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Obtains an RFC 3161 timestamp token over `digest` (a `hash` digest of the data to timestamp).
 * Checks: status granted (or grantedWithMods), a token with id-ct-TSTInfo content, the message
 * imprint equal to the request's, the nonce echoed. Does not verify the TSA's signature or
 * certificate (that is verification's job). Returns the token DER (ContentInfo), verbatim.
 * Errors: TSA_UNREACHABLE (network, HTTP status, timeout, transport threw), TSA_REJECTED (status),
 * TSA_BAD_RESPONSE (unreadable or not matching the request).
 */
export async function requestTimestamp(
  tsa: string | TimestampTransport,
  digest: Uint8Array,
  hash: HashName,
  options: TimestampRequestOptions = {},
): Promise<Uint8Array> {
  if (!HASH_OID[hash])
    throw new SidianError('SIGN_BAD_OPTIONS', `unsupported timestamp digest ${String(hash)}`);
  if (!(digest instanceof Uint8Array) || digest.length !== HASH_LENGTH[hash]) {
    throw new SidianError(
      'SIGN_BAD_OPTIONS',
      `the imprint must be a ${hash} digest (${HASH_LENGTH[hash]} bytes)`,
    );
  }
  const nonce =
    options.nonce === false ? undefined : typeof options.nonce === 'bigint' ? options.nonce : randomNonce();
  const query = buildTimestampRequest(digest, hash, {
    nonce,
    certReq: options.certReq ?? true,
    policy: options.policy,
  });

  let response: Uint8Array;
  if (typeof tsa === 'string') {
    response = await httpTransport(tsa, query, options);
  } else if (typeof tsa === 'function') {
    try {
      response = await tsa(query);
    } catch (e) {
      if (e instanceof SidianError) throw e;
      throw new SidianError(
        'TSA_UNREACHABLE',
        `timestamp transport failed: ${(e as Error)?.message ?? String(e)}`,
      );
    }
    if (!(response instanceof Uint8Array))
      throw new SidianError('TSA_BAD_RESPONSE', 'the transport returned no bytes');
  } else {
    throw new SidianError('SIGN_BAD_OPTIONS', 'tsa must be a URL or a function');
  }

  const parsed = parseTimestampResponse(response);
  if (parsed.status !== 0 && parsed.status !== 1) {
    const detail = [parsed.statusText, parsed.failInfo?.join(', ')].filter(Boolean).join(' — ');
    throw new SidianError(
      'TSA_REJECTED',
      `the timestamp authority refused the request (status ${parsed.status}${detail ? `: ${detail}` : ''})`,
      {
        status: parsed.status,
        statusText: parsed.statusText,
        failInfo: parsed.failInfo,
      },
    );
  }
  if (!parsed.token)
    throw new SidianError('TSA_BAD_RESPONSE', 'the response grants a timestamp but carries no token');
  let tst: TstInfo;
  try {
    tst = parseTimestampToken(parsed.token).tstInfo;
  } catch (e) {
    throw new SidianError('TSA_BAD_RESPONSE', `the timestamp token is unreadable: ${(e as Error).message}`);
  }
  if (tst.version !== 1)
    throw new SidianError('TSA_BAD_RESPONSE', `unexpected TSTInfo version ${tst.version}`);
  if (
    tst.messageImprint.hashAlgorithm !== HASH_OID[hash] ||
    !bytesEqual(tst.messageImprint.hashedMessage, digest)
  ) {
    throw new SidianError(
      'TSA_BAD_RESPONSE',
      'the timestamp token is for different data (message imprint mismatch)',
    );
  }
  if (nonce !== undefined && tst.nonce !== nonce) {
    throw new SidianError('TSA_BAD_RESPONSE', 'the timestamp token does not echo our nonce');
  }
  if (options.policy && tst.policy !== options.policy) {
    throw new SidianError(
      'TSA_BAD_RESPONSE',
      `the timestamp token has policy ${tst.policy}, not ${options.policy}`,
    );
  }
  return parsed.token;
}
