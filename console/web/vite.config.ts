import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The console is a static single-page app: built into `console/dist`, served by the control
 * plane under /console (control-plane/src/http/console-routes.ts). `vite` in this folder runs
 * a dev server that proxies the platform's APIs to a platform on :8080 (`npm start`); the
 * Host header is kept so the platform's same-origin check sees the dev server's origin.
 */
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    // The control plane's CSP allows same-origin scripts only: no inline module preload code.
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
  server: {
    proxy: {
      '/auth': { target: 'http://127.0.0.1:8080' },
      '/graphql': { target: 'http://127.0.0.1:8080' },
    },
  },
});
