import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import { expect, rejection } from '../test-support/expect';
import { afterEach, before, describe, it } from '../test-support/mocha';
import { axeViolations, cleanup, fixture, until } from '../test-support/helpers';
import '../material-uploader/define';
import type { LicenceReusedDetail, MaterialUploader } from '../material-uploader/material-uploader';
import { fetchPrefill, isEdited, prefill } from './prefill';
import type { SidianFillSource } from './fill-source';

interface ServerInfo {
  url: string;
}
let server: ServerInfo;
/** The demo service of the server's default catalogue: its values come from 营业执照 (YYZZ). */
const SERVICE = 'SPJYXKZ-XB';

async function token(name: string, idNumber: string): Promise<string> {
  const r = await fetch(`${server.url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, idNumber }),
  });
  return ((await r.json()) as { token: string }).token;
}

/** A registered 营业执照 held by `idNumber`; sampleLicence's face (经营场所 项城市莲花大道 1 号). */
async function businessLicence(name: string, idNumber: string) {
  const serial = String(300_000 + Math.floor(Math.random() * 600_000));
  return executeServerCommand<{ id: string; sha256: string }, Record<string, unknown>>('sidian-licence', {
    serial,
    register: true,
    typeCode: 'YYZZ',
    typeName: '营业执照',
    holder: { name, idType: '居民身份证', idNumber },
  });
}

const FORM = `<form>
  <label>经营者名称 <input name="shop" data-sidian-fill="licence.data.名称|licence.holderName" /></label>
  <label>经营场所 <input name="place" data-sidian-fill="licence.data.经营场所" /></label>
  <label>主体业态 <select name="kind" data-sidian-fill="licence.data.主体业态"><option value="">请选择</option><option>餐饮服务经营者</option><option>食品销售经营者</option></select></label>
  <label>申请人 <input name="applicant" data-sidian-fill="identity.name" /></label>
  <label>身份证号 <input name="idNumber" data-sidian-fill="identity.idNumber" /></label>
  <label>证照编号 <input name="licenceNo" /></label>
  <label>联系电话 <input name="phone" /></label>
</form>`;

const input = (form: HTMLFormElement, name: string) =>
  form.querySelector<HTMLInputElement>(`[name="${name}"]`)!;
const markerOf = (el: Element) => el.nextElementSibling as SidianFillSource;
const markerText = (el: Element) =>
  markerOf(el).shadowRoot!.querySelector('[part~=marker]')!.textContent!.trim();

describe('auto fill (自动数据填充)', () => {
  before(async () => {
    server = await executeServerCommand<ServerInfo, Record<string, never>>('sidian-server', {});
  });
  afterEach(() => {
    cleanup();
    document.documentElement.lang = 'zh-CN';
  });

  it('fills a host form from /api/prefill with nothing typed, shows each source, keeps an edit', async function () {
    this.timeout(60_000);
    const idNumber = '110101199003071234';
    const lic = await businessLicence('张三', idNumber);
    const tok = await token('张三', idNumber);
    const form = await fixture<HTMLFormElement>(FORM);
    const data = await fetchPrefill({ endpoint: `${server.url}/api`, service: SERVICE, token: tok });
    const r = prefill(form, data, { map: { licenceNo: 'licence.number' } });
    expect(r.filled.map((f) => f.input.name).sort()).toEqual([
      'applicant',
      'idNumber',
      'kind',
      'licenceNo',
      'place',
      'shop',
    ]);
    expect(input(form, 'shop').value).toBe('张三');
    expect(input(form, 'place').value).toBe('项城市莲花大道 1 号');
    expect(form.querySelector<HTMLSelectElement>('[name=kind]')!.value).toBe('餐饮服务经营者');
    expect(input(form, 'applicant').value).toBe('张三');
    expect(input(form, 'idNumber').value).toBe(idNumber);
    expect(input(form, 'licenceNo').value).toMatch(/^JY/);
    expect(input(form, 'phone').value).toBe('');
    // the form submits what was filled
    expect(new FormData(form).get('place')).toBe('项城市莲花大道 1 号');

    // which value came from which licence: a marker beside each, its details in the tooltip
    const place = input(form, 'place');
    await markerOf(place).updateComplete;
    expect(markerText(place)).toContain('来自营业执照');
    const detail = markerOf(place).detail;
    expect(detail).toContain(input(form, 'licenceNo').value);
    expect(detail).toContain('项城市市场监督管理局');
    expect(detail).toContain('有效');
    expect(place.dataset.sidianFillSource).toBe(lic.id);
    expect(place.getAttribute('aria-describedby')).toBe(markerOf(place).id);
    await markerOf(input(form, 'applicant')).updateComplete;
    expect(markerText(input(form, 'applicant'))).toContain('来自实名身份');
    expect(input(form, 'phone').nextElementSibling).toBe(null);
    const v = await axeViolations(form);
    if (v.length) throw new Error(v.join('\n'));

    // the citizen changes a value: marked as edited, and a later fill keeps it
    place.focus();
    place.setSelectionRange(place.value.length, place.value.length);
    await sendKeys({ type: '二楼' });
    expect(place.value).toBe('项城市莲花大道 1 号二楼');
    expect(isEdited(place)).toBe(true);
    await markerOf(place).updateComplete;
    expect(markerText(place)).toContain('已修改');
    input(form, 'shop').value = 'x';
    const again = prefill(form, data);
    expect(again.kept).toEqual([place]);
    expect(place.value).toBe('项城市莲花大道 1 号二楼');
    // only one marker per input, however often it is filled
    expect(form.querySelectorAll('sidian-fill-source').length).toBe(6);

    // English
    document.documentElement.lang = 'en';
    await until(() => markerText(place).includes('Edited'), 'English marker');
    expect(markerText(input(form, 'shop'))).toContain('From 营业执照');
  });

  it('another applicant gets none of these values; without a valid token it fails', async function () {
    this.timeout(60_000);
    await businessLicence('张三', '110101199003075555');
    const other = await fetchPrefill({
      endpoint: `${server.url}/api`,
      service: SERVICE,
      token: await token('李四', '110101198506126666'),
    });
    expect(Object.keys(other.values).filter((k) => k.startsWith('licence.'))).toEqual([]);
    expect(/张三|110101199003075555/.test(JSON.stringify(other))).toBe(false);
    const e = await rejection(
      fetchPrefill({ endpoint: `${server.url}/api`, service: SERVICE, token: 'not-a-token' }),
    );
    expect(e.code).toBe('TOKEN_INVALID');
  });

  it("<material-uploader>'s licence reuse gives the licence's fields and fills the host form", async function () {
    this.timeout(60_000);
    const idNumber = '110101199003077777';
    const lic = await businessLicence('张三', idNumber);
    const form = await fixture<HTMLFormElement>(
      `${FORM.replace('</form>', '')}<material-uploader name="materials" endpoint="${server.url}/api/materials"></material-uploader></form>`,
    );
    const el = form.querySelector<MaterialUploader>('material-uploader')!;
    el.requirements = [
      { id: 'business-licence', name: '营业执照', required: true, accept: 'pdf', licenceTypes: ['YYZZ'] },
    ];
    el.token = await token('张三', idNumber);
    await until(() => el.holderLicences.length === 1, 'licences listed', 10_000);
    const reused: LicenceReusedDetail[] = [];
    el.addEventListener('licence-reused', (ev) => reused.push(ev.detail));
    el.useLicence('business-licence', lic.id);
    expect(reused.length).toBe(1);
    expect(reused[0]!.licence.id).toBe(lic.id);
    expect(reused[0]!.values['licence.data.经营场所']).toBe('项城市莲花大道 1 号');
    expect(reused[0]!.sources['licence.data.经营场所']!.id).toBe(lic.id);
    const r = el.fill();
    // licence fields only: the identity is /api/prefill's
    expect(r.filled.map((f) => f.input.name).sort()).toEqual(['kind', 'place', 'shop']);
    expect(r.missing.map((m) => m.name).sort()).toEqual(['identity.idNumber', 'identity.name']);
    expect(input(form, 'place').value).toBe('项城市莲花大道 1 号');
    await markerOf(input(form, 'place')).updateComplete;
    expect(markerText(input(form, 'place'))).toContain('来自营业执照');
  });
});
