/**
 * The department's side of issuing (办结发证), before the seal: the licence metadata (GB/T 36903
 * fields, identifier with its check character), the PDF from the template and licence.json
 * attached as an incremental update. The seal (<seal-placer>, certification P=2) comes next.
 */
import {
  embedLicence,
  licenceQrPayload,
  makeLicenceIdentifier,
  type HolderIdType,
  type LicenceMetadata,
} from '../../packages/core/src/index';
import { renderLicence } from './licence-template';

export interface DraftInput {
  type: { code: string; name: string };
  holder: { name: string; idType: HolderIdType | string; idNumber: string };
  issuer: { name: string; creditCode: string };
  /** 证照编号 printed on the licence. */
  number: string;
  /** The issuer's serial for the identifier (letters and digits). */
  serial: string;
  issueDate: string;
  validUntil: string | null;
  data: Record<string, string>;
  /** The server's public base URL (the QR code opens `${base}/v/:id`). */
  baseUrl: string;
  font: Uint8Array;
}

export interface Draft {
  metadata: LicenceMetadata;
  qrUrl: string;
  pdf: Uint8Array;
}

export async function draftLicence(input: DraftInput): Promise<Draft> {
  const identifier = makeLicenceIdentifier({
    typeCode: input.type.code,
    issuerCode: input.issuer.creditCode,
    serial: input.serial,
    version: 1,
  });
  const metadata: LicenceMetadata = {
    version: 1,
    typeName: input.type.name,
    typeCode: input.type.code,
    number: input.number,
    identifier,
    holder: input.holder,
    issuer: input.issuer,
    issueDate: input.issueDate,
    validFrom: input.issueDate,
    validUntil: input.validUntil,
    data: input.data,
  };
  const qrUrl = licenceQrPayload(input.baseUrl, identifier);
  const face = await renderLicence({ metadata, qrUrl, font: input.font });
  return {
    metadata,
    qrUrl,
    pdf: embedLicence(face, metadata, { date: new Date(`${input.issueDate}T00:00:00Z`) }),
  };
}
