// The dashboard's build: Preact (JSX through Vite's own transform), hashed files under /ui/assets/, no inline code
// (the daemon's Content-Security-Policy allows only same-origin scripts and styles).
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'dashboard',
  base: '/ui/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/dashboard',
    emptyOutDir: true,
    target: 'es2022',
    // No inline modulepreload polyfill, no assets turned into data: URLs.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
