/** Public API of the signer module (re-exported by @sidian/core). */
export type { HashName, SignatureAlgorithmName, Signer } from './types';
export { signerFromCryptoKey } from './crypto-key';
export { signerFromPkcs12, type Pkcs12SignerOptions } from './pkcs12';
export { signerFromRemote, type RemoteSignerOptions, type RemoteSignInfo } from './remote';
export { resolveSignerAlgorithm, signerHash, type ResolvedAlgorithm } from './algorithms';
export { ecdsaRawToDer, ecdsaDerToRaw, normalizeEcdsaSignature } from './ecdsa';
export { assertCertificateUsable, parseCertificate, type CertificateInfo } from '../pki/certificate';
export { createSm2Key, signerFromSm2, type Sm2KeyPair } from './sm2';
export { Sm2KeyStore, SM2_KEY_STORE_DB, type Sm2StoredKey } from './sm2-store';
