/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// Django serves frontend/dist at /static/viewer/ and the page loads the entry
// by its fixed name, so only chunks and workers carry content hashes.
export default defineConfig({
  base: '/static/viewer/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The entry chunk is about 4.2 MB, almost all of it Cornerstone3D 5.14 and vtk.js.
    chunkSizeWarningLimit: 5000,
    rollupOptions: {
      // heatmap.js draws the model's heat maps over the viewer of viewer.js on the same page.
      // Both entries import Cornerstone from one shared chunk, so they share its state.
      input: { viewer: 'src/viewer.ts', heatmap: 'src/heatmap.ts' },
      output: {
        entryFileNames: '[name].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  // The DICOM image loader decodes in a worker that splits into chunks, which
  // Vite's default iife worker format rejects at build time.
  worker: {
    format: 'es',
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
