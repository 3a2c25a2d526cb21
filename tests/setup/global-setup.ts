/**
 * Vitest global setup: builds the CLI (server/dist/cli), generates the input PDFs and seal images into tests/.generated once per run
 * (cached on disk across runs) and provides them to tests:
 *
 *   import { inject } from 'vitest';
 *   const inputs = inject('inputPdfs');      // InputVariant[]
 *   const images = inject('sealImages');     // { sealPng, sealJpeg, opaquePng, palettePng }
 *
 * Tests may equally call generateInputPdfs(INPUTS_DIR) themselves: it returns the cached files.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { generateImages, type GeneratedImages } from '../fixtures/images';
import { IMAGES_DIR, INPUTS_DIR, REPO_ROOT } from '../fixtures/paths';
import { generateInputPdfs, type InputVariant } from '../fixtures/pdfs';

declare module 'vitest' {
  export interface ProvidedContext {
    inputPdfs: InputVariant[];
    sealImages: GeneratedImages;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  // the CLI tests run `server/bin/sidian.mjs`, which runs the built CLI: build it from the sources under test
  const cli = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/build-cli.mjs')], {
    encoding: 'utf8',
  });
  if (cli.status !== 0) throw new Error(`scripts/build-cli.mjs failed: ${cli.stderr}`);
  const [inputs, images] = await Promise.all([generateInputPdfs(INPUTS_DIR), generateImages(IMAGES_DIR)]);
  project.provide('inputPdfs', inputs);
  project.provide('sealImages', images);
}
