/**
 * Vitest global setup: generates the input PDFs and seal images into tests/.generated once per run
 * (cached on disk across runs) and provides them to tests:
 *
 *   import { inject } from 'vitest';
 *   const inputs = inject('inputPdfs');      // InputVariant[]
 *   const images = inject('sealImages');     // { sealPng, sealJpeg, opaquePng, palettePng }
 *
 * Tests may equally call generateInputPdfs(INPUTS_DIR) themselves: it returns the cached files.
 */
import type { TestProject } from 'vitest/node';
import { generateImages, type GeneratedImages } from '../fixtures/images';
import { IMAGES_DIR, INPUTS_DIR } from '../fixtures/paths';
import { generateInputPdfs, type InputVariant } from '../fixtures/pdfs';

declare module 'vitest' {
  export interface ProvidedContext {
    inputPdfs: InputVariant[];
    sealImages: GeneratedImages;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const [inputs, images] = await Promise.all([generateInputPdfs(INPUTS_DIR), generateImages(IMAGES_DIR)]);
  project.provide('inputPdfs', inputs);
  project.provide('sealImages', images);
}
