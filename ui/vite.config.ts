import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// `npm run dev` serves the UI with hot reload and forwards /api to a running inspector
// (`cargo run -- serve`, port 28120). The proxy rewrites Host to the target, which the API's
// DNS-rebinding guard requires.
const inspector = process.env.INSPECTOR_URL ?? 'http://127.0.0.1:28120';

export default defineConfig({
  plugins: [svelte()],
  // Under Vitest, Svelte's client runtime (its export conditions give Node the server one).
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: { '/api': { target: inspector, changeOrigin: true } },
  },
  test: {
    include: ['src/**/*.test.ts'],
    // Node, with modules transformed as for the browser: `.svelte.ts` code (LiveQuery) must be
    // compiled for the client for its effects to run (see vitest.client-env.ts).
    environment: './vitest.client-env.ts',
  },
});
