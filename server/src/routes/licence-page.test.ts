/**
 * The QR verification page (核验签章) as a person reads it: a GB/T 38540 seal's validity in Beijing
 * dates, as <licence-viewer> writes them.
 */
import { describe, expect, it } from 'vitest';
import { verificationPage } from './licence-page';

type Licence = Parameters<typeof verificationPage>[0];
type Report = Parameters<typeof verificationPage>[1];

const licence = {
  id: 'L-1',
  typeName: '营业执照',
  number: '91411700MA0000000X',
  holder: { name: '项城市某某有限公司' },
  status: 'valid',
  revokedAt: null,
  revocationReason: null,
} as unknown as Licence;

const report = {
  status: 'valid',
  signatures: [
    {
      kind: 'certification',
      status: 'valid',
      signer: { commonName: '项城市市场监督管理局' },
      claimedTime: '2027-03-01T02:00:00Z',
      gbSeal: {
        esID: 'es-1',
        name: '项城市市场监督管理局业务专用章',
        type: 3,
        // from midnight 1 January 2027 to midnight 1 July 2027, Beijing time
        validStart: '2026-12-31T16:00:00.000Z',
        validEnd: '2027-06-30T16:00:00.000Z',
        status: 'valid',
      },
    },
  ],
} as unknown as Report;

describe('verification page', () => {
  it("shows a seal's validity as Beijing dates, not the UTC day before", () => {
    for (const lang of ['zh-CN', 'en'] as const) {
      const html = verificationPage(licence, report, lang);
      const seal = /<dd class="gb-seal">([^<]*)/.exec(html)?.[1] ?? '';
      expect(seal).toContain('2027-01-01');
      expect(seal).toContain('2027-07-01');
      expect(seal).not.toMatch(/2026-12-31|2027-06-30/);
    }
  });
});
