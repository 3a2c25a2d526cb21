#!/usr/bin/env node
// Editor data and framework typings, generated from the Custom Elements Manifest (which
// `npm run manifest` makes from the elements' JSDoc), so that nothing is written twice:
//   packages/elements/vscode.html-custom-data.json  VS Code (html.customData, see .vscode/settings.json)
//   packages/elements/web-types.json                JetBrains IDEs (package.json "web-types")
//   packages/elements/types/react.d.ts              React 19 JSX: <seal-placer mode="seam" onsealed={…}>
//   packages/elements/types/vue.d.ts                Vue 3 templates (GlobalComponents): <seal-placer @sealed="…">
// Property types come from the element classes themselves (`SealPlacer['mode']`), event types from
// HTMLElementEventMap, which each element augments.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = path.join(root, 'packages/elements');
const manifest = JSON.parse(readFileSync(path.join(pkgDir, 'custom-elements.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const STORYBOOK = 'storybook-static/index.html'; // `npm run storybook:build`; docs per element

/** Every custom element with its module path and the public API a page uses. */
const elements = [];
for (const mod of manifest.modules) {
  for (const d of mod.declarations ?? []) {
    if (!d.customElement || !d.tagName) continue;
    const members = (d.members ?? []).filter(
      (m) =>
        m.kind === 'field' && !m.static && (!m.privacy || m.privacy === 'public') && !m.name.startsWith('_'),
    );
    const methods = (d.members ?? []).filter(
      (m) =>
        m.kind === 'method' && !m.static && (!m.privacy || m.privacy === 'public') && !m.name.startsWith('_'),
    );
    elements.push({
      tag: d.tagName,
      className: d.name,
      module: mod.path,
      summary: d.summary ?? '',
      description: [d.summary, d.description].filter(Boolean).join('\n\n'),
      attributes: (d.attributes ?? []).filter((a) => a.name),
      properties: members,
      methods,
      // documented events only (the analyzer also reports the name parameter of the base class's emit helper)
      events: (d.events ?? []).filter((e) => e.name && e.description),
      parts: d.cssParts ?? [],
      cssProperties: d.cssProperties ?? [],
      slots: d.slots ?? [],
    });
  }
}
elements.sort((a, b) => a.tag.localeCompare(b.tag));
if (elements.length === 0) throw new Error('editor-data: no custom elements in custom-elements.json');

/** String literal values of a union type text (`'single' | 'seam'`), for completion lists. */
function literalValues(typeText = '') {
  const parts = typeText
    .split('|')
    .map((s) => s.trim())
    .filter((s) => s !== 'undefined');
  if (!parts.length || !parts.every((p) => /^(['"]).*\1$|^\d+$/.test(p))) return undefined;
  return parts.map((p) => p.replace(/^['"]|['"]$/g, ''));
}

const docsUrl = (e) => `${STORYBOOK}?path=/docs/elements-${e.tag}--docs`;

// ---- VS Code custom data (https://github.com/microsoft/vscode-custom-data) ----------------------
const vscode = {
  version: 1.1,
  tags: elements.map((e) => ({
    name: e.tag,
    description: {
      kind: 'markdown',
      value:
        e.description +
        (e.events.length ? `\n\nEvents: ${e.events.map((v) => `\`${v.name}\``).join(', ')}` : ''),
    },
    attributes: e.attributes.map((a) => {
      const values = literalValues(a.type?.text);
      return {
        name: a.name,
        description: a.description ?? '',
        ...(values ? { values: values.map((name) => ({ name })) } : {}),
        ...(a.type?.text === 'boolean' ? { valueSet: 'v' } : {}),
      };
    }),
    references: [{ name: 'Storybook', url: docsUrl(e) }],
  })),
};

// ---- JetBrains web-types (https://github.com/JetBrains/web-types) -------------------------------
const webTypes = {
  $schema: 'https://json.schemastore.org/web-types',
  name: pkg.name,
  version: pkg.version,
  'description-markup': 'markdown',
  contributions: {
    html: {
      elements: e2wt(),
    },
    css: {
      properties: elements.flatMap((e) =>
        e.cssProperties.map((p) => ({ name: p.name, description: `${p.description ?? ''} (<${e.tag}>)` })),
      ),
      parts: elements.flatMap((e) =>
        e.parts.map((p) => ({ name: p.name, description: `${p.description ?? ''} (<${e.tag}>)` })),
      ),
    },
  },
};

function e2wt() {
  return elements.map((e) => ({
    name: e.tag,
    description: e.description,
    'doc-url': docsUrl(e),
    attributes: e.attributes.map((a) => ({
      name: a.name,
      description: a.description ?? '',
      value: { type: a.type?.text ?? 'string', required: false },
    })),
    js: {
      properties: e.properties.map((p) => ({
        name: p.name,
        description: p.description ?? '',
        type: p.type?.text ?? 'unknown',
      })),
      events: e.events.map((v) => ({ name: v.name, description: v.description ?? '' })),
    },
    css: {
      parts: e.parts.map((p) => ({ name: p.name, description: p.description ?? '' })),
      properties: e.cssProperties.map((p) => ({ name: p.name, description: p.description ?? '' })),
    },
  }));
}

// ---- typings ------------------------------------------------------------------------------------
const header = (what) =>
  `// Generated by scripts/editor-data.mjs from custom-elements.json (${what}); do not edit.\n`;
const importPath = (e) => '../' + e.module.replace(/^packages\/elements\//, '').replace(/\.ts$/, '');
const imports = elements.map((e) => `import type { ${e.className} } from '${importPath(e)}';`).join('\n');
const settable = (e) => e.properties.filter((p) => !p.readonly).map((p) => p.name);
const propsType = (e) => {
  const names = settable(e);
  return names.length ? `Partial<Pick<${e.className}, ${names.map((n) => `'${n}'`).join(' | ')}>>` : '{}';
};
const eventType = (name) => `HTMLElementEventMap extends { '${name}': infer E } ? E : CustomEvent`;

const react = `${header('React 19 JSX')}// React 19 sets properties on custom elements and listens to \`on<event-name>\` props:
//   <seal-placer ref={ref} mode="seam" signer={signer} onsealed={(e) => save(e.detail.pdf)} />
// Use: \`/// <reference types="@sidian/elements/types/react" />\` or include this file in tsconfig.
import type { DetailedHTMLProps, HTMLAttributes } from 'react';
${imports}

type Base<E> = DetailedHTMLProps<HTMLAttributes<E>, E>;
${elements
  .map((e) => {
    const events = e.events.map((v) => `  'on${v.name}'?: (event: ${eventType(v.name)}) => void;`).join('\n');
    return `/** <${e.tag}>: ${e.summary.replace(/\*\//g, '')} */
export type ${e.className}Props = Base<${e.className}> & ${propsType(e)} & {
${events}
};`;
  })
  .join('\n\n')}

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
${elements.map((e) => `      '${e.tag}': ${e.className}Props;`).join('\n')}
    }
  }
}
`;

const camel = (s) => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
const vue = `${header('Vue 3 templates')}// Vue sets DOM properties on custom elements (\`:signer="signer"\`) and listens with \`@event-name\`.
// Tell the compiler they are custom elements: compilerOptions.isCustomElement = (tag) => SIDIAN_TAGS.includes(tag).
// Use: \`/// <reference types="@sidian/elements/types/vue" />\` or include this file in tsconfig.
import type { DefineComponent } from 'vue';
${imports}

export const SIDIAN_TAGS: readonly string[];
${elements
  .map((e) => {
    const events = e.events
      .map(
        (v) =>
          `  on${camel(v.name[0].toUpperCase() + v.name.slice(1))}?: (event: ${eventType(v.name)}) => void;`,
      )
      .join('\n');
    return `/** <${e.tag}>: ${e.summary.replace(/\*\//g, '')} */
export type ${e.className}VueProps = ${propsType(e)} & {
${events}
};`;
  })
  .join('\n\n')}

declare module 'vue' {
  interface GlobalComponents {
${elements.map((e) => `    '${e.tag}': DefineComponent<${e.className}VueProps>;`).join('\n')}
  }
}
`;

writeFileSync(path.join(pkgDir, 'vscode.html-custom-data.json'), JSON.stringify(vscode, null, 2) + '\n');
writeFileSync(path.join(pkgDir, 'web-types.json'), JSON.stringify(webTypes, null, 2) + '\n');
mkdirSync(path.join(pkgDir, 'types'), { recursive: true });
writeFileSync(path.join(pkgDir, 'types/react.d.ts'), react);
writeFileSync(path.join(pkgDir, 'types/vue.d.ts'), vue);
writeFileSync(
  path.join(pkgDir, 'types/vue.js'),
  `// Generated by scripts/editor-data.mjs. The tags to give Vue's compilerOptions.isCustomElement.\nexport const SIDIAN_TAGS = ${JSON.stringify(elements.map((e) => e.tag))};\n`,
);
console.log(
  `editor-data: ${elements.length} elements (${elements.map((e) => e.tag).join(', ')}) -> vscode.html-custom-data.json, web-types.json, types/react.d.ts, types/vue.d.ts`,
);
