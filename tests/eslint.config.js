// ESLint for the end-to-end tests and benchmarks (Node ES modules; some code runs in the browser
// page through Playwright's `evaluate`). Formatting is prettier's job (`npm run format`).
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['node_modules/', '.venv/', 'artifacts/', 'fixtures/', 'fuzz/', 'python/', 'e2e/python/'] },
  js.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: { ...globals.node } },
  },
  {
    // These drive Chromium through Playwright: the functions they pass to `page.evaluate`,
    // `waitForFunction` and `addInitScript` run in the page, where `window` and `document` exist.
    files: [
      'bench/ui-bench.mjs',
      'e2e/export-har.test.mjs',
      'e2e/export-ui.test.mjs',
      'e2e/faults.test.mjs',
      'e2e/identity-js.test.mjs',
      'e2e/local-security.test.mjs',
      'e2e/posthog-js.test.mjs',
      'e2e/rudderstack-js.test.mjs',
      'e2e/ui.test.mjs',
      'e2e/ui-headless-sdk.test.mjs',
      'e2e/ui-reconnect.test.mjs',
      'e2e/ui-events.test.mjs',
      'e2e/ui-devices.test.mjs',
      'e2e/ui-persons.test.mjs',
      'e2e/vendors-browser.test.mjs',
    ],
    languageOptions: { globals: { ...globals.browser } },
  },
];
