/** Where keys live. The one seam between the signing engine and keys (DESIGN.md "Signer"). */
export type SignatureAlgorithmName = 'ECDSA' | 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'SM2';
/** SM3 (GB/T 32905) only with SM2. */
export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512' | 'SM3';

export interface Signer {
  /** DER of the signer's certificate. */
  certificate: Uint8Array;
  /** DER of the issuers up to (not necessarily including) the root. */
  chain: Uint8Array[];
  /**
   * Signs the DER of the CMS signed attributes (a SET OF Attribute) and returns the
   * signature value as CMS carries it (ECDSA: DER SEQUENCE of r and s, not r||s).
   */
  sign(signedAttributes: Uint8Array): Promise<Uint8Array>;
  /** Key algorithm; derived from the certificate's public key when absent (RSA means PKCS#1 v1.5). */
  algorithm?: SignatureAlgorithmName;
  /** Digest used for the signed attributes and the document; default SHA-256 (SHA-384 for P-384). */
  hash?: HashName;
}
