/** The part of sm-crypto (JuneAndGreen/sm-crypto, MIT; CommonJS, no bundled types) that bench/gm uses. */
declare module 'sm-crypto' {
  interface Sm2Options {
    hash?: boolean;
    der?: boolean;
    userId?: string;
  }
  const smCrypto: {
    sm2: {
      generateKeyPairHex(): { privateKey: string; publicKey: string };
      doSignature(msg: string, privateKey: string, options?: Sm2Options): string;
      doVerifySignature(msg: string, signature: string, publicKey: string, options?: Sm2Options): boolean;
    };
    sm3(msg: string | number[]): string;
  };
  export default smCrypto;
}
