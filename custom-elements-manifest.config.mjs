// Custom Elements Manifest analyzer settings (`npm run manifest`; the globs are in package.json).
// The manifest is the elements' public face: Storybook's property tables, the editor data and the
// React/Vue typings (scripts/editor-data.mjs) are made from it. So it carries only the public API:
// private and protected members (state, handlers, ElementInternals, render helpers) are dropped, and so
// are members tagged `@internal` (the analyzer drops those itself); a base class that defines no tag
// (SidianElement) is a class, not a custom element with an undefined tag name.
// tests/packages/manifest.test.ts generates the manifest and checks all of this.

/** @returns {import('@custom-elements-manifest/analyzer').Plugin} */
function publicApiOnly() {
  const isPublic = (m) => (!m.privacy || m.privacy === 'public') && !/^[#_]/.test(m.name ?? '');
  return {
    name: 'sidian-public-api-only',
    packageLinkPhase({ customElementsManifest }) {
      for (const mod of customElementsManifest.modules ?? []) {
        for (const d of mod.declarations ?? []) {
          if (d.kind !== 'class' && d.kind !== 'mixin') continue;
          if (d.members) d.members = d.members.filter(isPublic);
          // the `type` parameter of the base class's typed emit() helper is not an event
          if (d.events) d.events = d.events.filter((e) => e.name);
          if (d.attributes) d.attributes = d.attributes.filter((a) => a.name);
          if (d.customElement && !d.tagName) delete d.customElement;
        }
      }
    },
  };
}

export default {
  litelement: true,
  // never write a customElements field into the root package.json (the tests generate the manifest
  // into a temporary folder, which the field then named); packages/elements/package.json names it
  packagejson: false,
  plugins: [publicApiOnly()],
};
