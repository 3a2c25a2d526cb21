/**
 * The Custom Elements Manifest is the elements' public face (Storybook's tables, editor data, React
 * and Vue typings are made from it). Generated here exactly as `npm run manifest` makes it (same
 * globs, into a temp directory), it must name every element by its tag, carry no private or
 * protected member, no `@internal` one, and still carry the public API the docs describe.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

interface Member {
  kind: string;
  name: string;
  privacy?: string;
  static?: boolean;
}
interface Declaration {
  kind: string;
  name: string;
  customElement?: boolean;
  tagName?: string;
  members?: Member[];
  attributes?: { name?: string; fieldName?: string }[];
  events?: { name?: string }[];
}
interface Manifest {
  modules: { path: string; declarations?: Declaration[] }[];
}

let manifest: Manifest;
const elements = () => manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.customElement);
const element = (tag: string) => elements().find((d) => d.tagName === tag)!;

describe('custom-elements.json', () => {
  beforeAll(() => {
    const script = (
      JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts.manifest!;
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sidian-manifest-'));
    // the script's own arguments, with the output directory moved (the analyzer takes it relative to the cwd)
    const args = script
      .replace(/^cem analyze\s+/, '')
      .replace(/--outdir\s+\S+/, '')
      .match(/'[^']*'|\S+/g)!
      .map((a) => a.replace(/^'|'$/g, ''));
    execFileSync(
      path.join(root, 'node_modules/.bin/cem'),
      ['analyze', ...args, '--outdir', path.relative(root, out)],
      { cwd: root, stdio: 'pipe' },
    );
    manifest = JSON.parse(fs.readFileSync(path.join(out, 'custom-elements.json'), 'utf8')) as Manifest;
    fs.rmSync(out, { recursive: true, force: true });
  }, 120_000);

  it('names the four elements and the auto-fill source marker by their tags, and nothing is an element with an undefined tag', () => {
    const tags = elements().map((d) => d.tagName);
    expect(tags.every((t) => typeof t === 'string' && /^[a-z]+-[a-z-]+$/.test(t))).toBe(true);
    expect([...tags].sort()).toEqual([
      'licence-viewer',
      'material-uploader',
      'seal-placer',
      'sidian-fill-source', // the marker prefill() puts beside each filled input (自动数据填充)
      'signature-pad',
    ]);
    expect(JSON.stringify(manifest)).not.toContain('"tagName":"undefined"');
  });

  it('carries no private, protected or internal member', () => {
    const leaks: string[] = [];
    for (const mod of manifest.modules)
      for (const d of mod.declarations ?? []) {
        for (const m of d.members ?? []) {
          if ((m.privacy && m.privacy !== 'public') || /^[#_]/.test(m.name))
            leaks.push(`${d.name}.${m.name} (${m.privacy})`);
        }
      }
    expect(leaks).toEqual([]);
    for (const tag of ['seal-placer', 'signature-pad', 'licence-viewer', 'material-uploader']) {
      const names = (element(tag).members ?? []).map((m) => m.name);
      for (const hidden of [
        'busy',
        'frame',
        'internals',
        'fieldsetDisabled',
        'emit',
        't',
        'view',
        'updateForm',
        'formResetCallback',
        'isDisabled',
        'onPageClick',
        'onPointerDown',
        'renderItem',
      ])
        expect(names, `${tag} shows ${hidden}`).not.toContain(hidden);
      expect((element(tag).events ?? []).every((e) => !!e.name)).toBe(true);
      expect((element(tag).attributes ?? []).every((a) => !!a.name)).toBe(true);
    }
  });

  it('keeps the public API: properties, methods, attributes and events', () => {
    const names = (tag: string) => (element(tag).members ?? []).map((m) => m.name);
    expect(names('seal-placer')).toEqual(
      expect.arrayContaining([
        'src',
        'mode',
        'signer',
        'placements',
        'document',
        'seal',
        'place',
        'reset',
        'state',
      ]),
    );
    expect(names('signature-pad')).toEqual(
      expect.arrayContaining(['placement', 'signer', 'sign', 'reset', 'done', 'toPNG', 'toSVG', 'strokes']),
    );
    expect(names('material-uploader')).toEqual(
      expect.arrayContaining(['requirements', 'token', 'endpoint', 'upload', 'materials']),
    );
    expect(names('licence-viewer')).toEqual(
      expect.arrayContaining(['src', 'trust', 'statusUrl', 'verify', 'report']),
    );
    expect((element('seal-placer').attributes ?? []).map((a) => a.name)).toEqual(
      expect.arrayContaining(['src', 'seal', 'mode', 'name', 'required', 'disabled']),
    );
    expect((element('seal-placer').events ?? []).map((e) => e.name)).toEqual(
      expect.arrayContaining(['sealed', 'placement-change']),
    );
  });
});
