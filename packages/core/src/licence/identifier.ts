/**
 * Licence identifiers (电子证照标识) after GB/T 36903:
 *   1.2.156.3005.2.<licence type code>.<issuer code>.<serial>.<version>.<check>
 * where the check character is ISO/IEC 7064 MOD 37,36 over the identifier's characters
 * (dots excluded), and 统一社会信用代码 (GB 32100) check characters.
 */
import { SidianError } from '../errors';

export const LICENCE_ID_PREFIX = '1.2.156.3005.2';

const ALNUM36 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * ISO/IEC 7064 MOD 37,36 (hybrid system, alphanumeric, one check character from 0-9A-Z).
 * Input: digits and Latin letters (case-insensitive); any other character is an error.
 */
export function mod3736CheckChar(input: string): string {
  const M = 36;
  let p = M;
  const s = input.toUpperCase();
  if (s.length === 0)
    throw new SidianError('LICENCE_INVALID', 'cannot compute a check character of an empty string');
  for (const ch of s) {
    const v = ALNUM36.indexOf(ch);
    if (v < 0)
      throw new SidianError('LICENCE_INVALID', `character "${ch}" is not allowed in a licence identifier`);
    let t = (p + v) % M;
    if (t === 0) t = M;
    p = (t * 2) % (M + 1);
  }
  const c = (M + 1 - p) % M;
  return ALNUM36[c]!;
}

/** True when the last character is the MOD 37,36 check character of the rest. */
export function mod3736Valid(withCheck: string): boolean {
  if (withCheck.length < 2) return false;
  try {
    return mod3736CheckChar(withCheck.slice(0, -1)) === withCheck.slice(-1).toUpperCase();
  } catch {
    return false;
  }
}

export interface LicenceIdentifierParts {
  /** 证照类型代码 (licence type code; digits/letters). */
  typeCode: string;
  /** 颁发机构代码: the issuing authority's 统一社会信用代码. */
  issuerCode: string;
  /** Serial number assigned by the issuer (digits/letters). */
  serial: string;
  /** Version of the licence (digits), 1 for a first issue. */
  version: string | number;
}

const PART = /^[0-9A-Za-z]+$/;

function checkPart(name: string, v: string): string {
  if (!PART.test(v))
    throw new SidianError(
      'LICENCE_INVALID',
      `licence identifier part ${name} must be letters and digits, got "${v}"`,
    );
  if (v.length > 64) throw new SidianError('LICENCE_INVALID', `licence identifier part ${name} is too long`);
  return v.toUpperCase();
}

/** Builds the identifier with its check character. */
export function makeLicenceIdentifier(parts: LicenceIdentifierParts): string {
  const body = [
    LICENCE_ID_PREFIX,
    checkPart('type', parts.typeCode),
    checkPart('issuer', parts.issuerCode),
    checkPart('serial', parts.serial),
    checkPart('version', String(parts.version)),
  ].join('.');
  return `${body}.${mod3736CheckChar(body.replace(/\./g, ''))}`;
}

/** Splits and checks an identifier; throws LICENCE_INVALID with a reason when it is not well formed. */
export function parseLicenceIdentifier(id: string): LicenceIdentifierParts & { check: string } {
  if (typeof id !== 'string' || id.length > 256)
    throw new SidianError('LICENCE_INVALID', 'licence identifier is not a string of reasonable length');
  if (!id.startsWith(LICENCE_ID_PREFIX + '.')) {
    throw new SidianError('LICENCE_INVALID', `licence identifier must start with ${LICENCE_ID_PREFIX}`);
  }
  const rest = id.slice(LICENCE_ID_PREFIX.length + 1).split('.');
  if (rest.length !== 5)
    throw new SidianError(
      'LICENCE_INVALID',
      'licence identifier must have type, issuer, serial, version and check parts',
    );
  const [typeCode, issuerCode, serial, version, check] = rest as [string, string, string, string, string];
  for (const [n, v] of [
    ['type', typeCode],
    ['issuer', issuerCode],
    ['serial', serial],
    ['version', version],
  ] as const)
    checkPart(n, v);
  if (!/^\d+$/.test(version))
    throw new SidianError('LICENCE_INVALID', 'licence identifier version must be digits');
  if (!/^[0-9A-Za-z]$/.test(check))
    throw new SidianError('LICENCE_INVALID', 'licence identifier check must be one character');
  const body = id.slice(0, id.length - 2).replace(/\./g, '');
  const expected = mod3736CheckChar(body);
  if (expected !== check.toUpperCase()) {
    throw new SidianError(
      'LICENCE_INVALID',
      `licence identifier check character is ${check}, expected ${expected}`,
    );
  }
  return {
    typeCode: typeCode.toUpperCase(),
    issuerCode: issuerCode.toUpperCase(),
    serial: serial.toUpperCase(),
    version,
    check: check.toUpperCase(),
  };
}

export function isLicenceIdentifier(id: string): boolean {
  try {
    parseLicenceIdentifier(id);
    return true;
  } catch {
    return false;
  }
}

// 统一社会信用代码 (GB 32100-2015): 18 characters from the 31-character set, last one a check.
const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character of the first 17 characters of a 统一社会信用代码. */
export function creditCodeCheckChar(first17: string): string {
  const s = first17.toUpperCase();
  if (s.length !== 17) throw new SidianError('LICENCE_INVALID', 'a 统一社会信用代码 body has 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_CHARS.indexOf(s[i]!);
    if (v < 0)
      throw new SidianError('LICENCE_INVALID', `character "${s[i]}" is not allowed in a 统一社会信用代码`);
    sum += v * USCC_WEIGHTS[i]!;
  }
  return USCC_CHARS[(31 - (sum % 31)) % 31]!;
}

export function isCreditCode(code: string): boolean {
  if (typeof code !== 'string' || !/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(code)) return false;
  try {
    return creditCodeCheckChar(code.slice(0, 17)) === code[17];
  } catch {
    return false;
  }
}
