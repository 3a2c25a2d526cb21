/**
 * The verification worker (a module worker served from our own files, next to the element): a
 * message `{id, pdf, trustAnchors, seals?}` checks one licence (GB/T 38540 seals against
 * `seals.sealTrustAnchors`, asking `seals.sealRegistry` about each when given); the reply is `{id, result}` (plain data:
 * report, licence, page geometry) or `{id, error: {code, name, message}}`.
 */
import { checkLicence, type SealCheckOptions, type VerifyWorkerReply } from './verifier';

interface Job {
  id: number;
  pdf: Uint8Array;
  trustAnchors: (Uint8Array | string)[];
  seals?: SealCheckOptions;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Job>) => void) | null;
  postMessage(m: VerifyWorkerReply): void;
};

scope.onmessage = (e) => {
  const { id, pdf, trustAnchors, seals } = e.data;
  // a failed check, or a result that cannot be cloned (DataCloneError), is answered as an error
  checkLicence(pdf, trustAnchors, seals)
    .then((result) => scope.postMessage({ id, result }))
    .catch((err: unknown) => {
      const x = err as { code?: unknown; name?: unknown; message?: unknown } | null;
      scope.postMessage({
        id,
        error: {
          code: typeof x?.code === 'string' ? x.code : undefined,
          name: typeof x?.name === 'string' ? x.name : undefined,
          message: typeof x?.message === 'string' ? x.message : String(err),
        },
      });
    });
};
