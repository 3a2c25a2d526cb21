// `npx vite build examples/react` -> examples/react/dist (relative asset URLs: serve it anywhere)
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({ base: './', plugins: [react()], build: { target: 'es2022' } });
