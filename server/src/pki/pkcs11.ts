/**
 * Keys in an HSM through PKCS#11 (OASIS PKCS #11 v2.40 base specification): the server opens one
 * session on the configured token, logs in as the user with the PIN and signs with private keys
 * found by label (CKA_LABEL). The keys never leave the token; the server holds only handles.
 * Binding: pkcs11js (native, built by node-gyp), loaded only when an HSM is configured.
 */
import { ConfigError as PkiConfigError } from '../config-error';
import { externalEcKey } from './x509';

export interface Pkcs11Config {
  /** Path of the vendor's PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  module: string;
  /** Token label (CK_TOKEN_INFO.label); the first token with one when absent. */
  token?: string;
  /** The user PIN (from the environment or a file, never a command-line argument). */
  pin: string;
}

export { PkiConfigError };

type Pkcs11Module = typeof import('pkcs11js');
type Handle = Buffer;

async function loadBinding(): Promise<Pkcs11Module> {
  try {
    const m = (await import('pkcs11js')) as Pkcs11Module & { default?: Pkcs11Module };
    return m.default ?? m;
  } catch (e) {
    throw new PkiConfigError(
      'PKCS11_UNAVAILABLE',
      `PKCS#11 support needs the pkcs11js package (npm install pkcs11js): ${(e as Error).message}`,
    );
  }
}

/** ASN.1 DER: CKA_EC_POINT is an OCTET STRING holding the uncompressed point (X9.62 §4.3.6). */
function unwrapEcPoint(value: Buffer): Uint8Array {
  if (value[0] === 0x04 && value.length === 65) return new Uint8Array(value);
  if (value[0] === 0x04 && value[1] === 0x41 && value.length === 67) return new Uint8Array(value.subarray(2));
  throw new PkiConfigError('PKCS11_KEY_UNSUPPORTED', 'the HSM key is not an uncompressed P-256 point');
}

export class Pkcs11Token {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly p11: Pkcs11Module,
    private readonly lib: InstanceType<Pkcs11Module['PKCS11']>,
    private readonly session: Handle,
    readonly label: string,
  ) {}

  static async open(c: Pkcs11Config): Promise<Pkcs11Token> {
    const p11 = await loadBinding();
    const lib = new p11.PKCS11();
    try {
      lib.load(c.module);
    } catch (e) {
      throw new PkiConfigError(
        'PKCS11_MODULE',
        `cannot load the PKCS#11 module ${c.module}: ${(e as Error).message}`,
      );
    }
    try {
      lib.C_Initialize();
    } catch (e) {
      // a second token object in the same process (tests) finds the library initialised already
      if ((e as { code?: number }).code !== p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
    }
    const slots = lib.C_GetSlotList(true);
    const found = slots
      .map((slot) => ({ slot, label: lib.C_GetTokenInfo(slot).label.trim() }))
      .find((t) => (c.token ? t.label === c.token : true));
    if (!found) {
      throw new PkiConfigError(
        'PKCS11_TOKEN',
        `no PKCS#11 token${c.token ? ` labelled "${c.token}"` : ''} in ${c.module}`,
      );
    }
    const session = lib.C_OpenSession(found.slot, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION);
    try {
      lib.C_Login(session, p11.CKU_USER, c.pin);
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code !== p11.CKR_USER_ALREADY_LOGGED_IN) {
        lib.C_CloseSession(session);
        throw new PkiConfigError(
          'PKCS11_LOGIN',
          `cannot log in to the PKCS#11 token "${found.label}" (wrong PIN?): ${(e as Error).message}`,
        );
      }
    }
    return new Pkcs11Token(p11, lib, session, found.label);
  }

  /** The one object matching `template`; two with the same label are refused rather than guessed between. */
  private findOne(
    template: { type: number; value: number | string | boolean }[],
    what: string,
  ): Handle | undefined {
    this.lib.C_FindObjectsInit(this.session, template);
    let found: Handle[];
    try {
      found = this.lib.C_FindObjects(this.session, 2);
    } finally {
      this.lib.C_FindObjectsFinal(this.session);
    }
    if (found.length > 1)
      throw new PkiConfigError(
        'PKCS11_KEY',
        `more than one ${what} on the token "${this.label}": labels must be unique`,
      );
    return found[0];
  }

  /** The private key labelled `label`, as a CryptoKey-shaped handle that `pki/x509`'s subtle signs with. */
  privateKey(label: string): CryptoKey {
    return externalEcKey(this.digestSigner(label));
  }

  /** Signs SHA-256 digests with the key labelled `label` (CKM_ECDSA: r||s), for core's signerFromRemote. */
  digestSigner(label: string): (digest: Uint8Array) => Promise<Uint8Array> {
    const { p11, lib, session } = this;
    const handle = this.findOne(
      [
        { type: p11.CKA_CLASS, value: p11.CKO_PRIVATE_KEY },
        { type: p11.CKA_LABEL, value: label },
      ],
      `private key labelled "${label}"`,
    );
    if (!handle)
      throw new PkiConfigError(
        'PKCS11_KEY',
        `no private key labelled "${label}" on the token "${this.label}"`,
      );
    const [type] = lib.C_GetAttributeValue(session, handle, [{ type: p11.CKA_KEY_TYPE }]);
    if ((type?.value as Buffer | undefined)?.readUInt32LE(0) !== p11.CKK_EC)
      throw new PkiConfigError('PKCS11_KEY_UNSUPPORTED', `the key "${label}" is not an EC (P-256) key`);
    return (digest) => this.serialised(() => this.signDigest(handle, digest));
  }

  /** The raw public point (04||x||y) of the public key labelled `label`, if the token has it. */
  publicPoint(label: string): Uint8Array | undefined {
    const { p11, lib, session } = this;
    const handle = this.findOne(
      [
        { type: p11.CKA_CLASS, value: p11.CKO_PUBLIC_KEY },
        { type: p11.CKA_LABEL, value: label },
      ],
      `public key labelled "${label}"`,
    );
    if (!handle) return undefined;
    const [point] = lib.C_GetAttributeValue(session, handle, [{ type: p11.CKA_EC_POINT }]);
    return unwrapEcPoint(point!.value as Buffer);
  }

  /** One operation at a time on the session (PKCS#11 §5.6: a session runs one operation at once). */
  private serialised<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async signDigest(key: Handle, digest: Uint8Array): Promise<Uint8Array> {
    this.lib.C_SignInit(this.session, { mechanism: this.p11.CKM_ECDSA }, key);
    const out = await this.lib.C_SignAsync(this.session, Buffer.from(digest), Buffer.alloc(132));
    return new Uint8Array(out);
  }

  close(): void {
    try {
      this.lib.C_Logout(this.session);
      this.lib.C_CloseSession(this.session);
    } catch {
      /* closing anyway */
    }
  }
}
