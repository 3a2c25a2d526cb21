// `npx vite build examples/vue` -> examples/vue/dist; tags with a dash are custom elements, not Vue components
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  plugins: [vue({ template: { compilerOptions: { isCustomElement: (tag) => tag.includes('-') } } })],
  build: { target: 'es2022' },
});
