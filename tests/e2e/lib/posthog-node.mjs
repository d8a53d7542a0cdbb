// The real posthog-node SDK pointed at a running inspector, as the CLI, MCP and scoping tests
// drive it: every call batched into one flush, no retries (a failure shows at once), and any
// error the SDK reports failing the test.

import assert from 'node:assert/strict';

import { PostHog } from 'posthog-node';

/** A posthog-node client for `key` at `url`, and the errors it reports. */
export function posthogNode(url, key, options = {}) {
  const errors = [];
  const ph = new PostHog(key, {
    host: url,
    flushAt: 100,
    flushInterval: 0,
    fetchRetryCount: 0,
    requestTimeout: 10_000,
    preloadFeatureFlags: false,
    ...options,
  });
  ph.on('error', (err) => errors.push(String(err?.stack || err)));
  return { ph, errors };
}

/** Runs `build(ph)` (it may be async), flushes, shuts the client down, asserts no SDK error. */
export async function sendWithPosthogNode(url, key, build, options) {
  const { ph, errors } = posthogNode(url, key, options);
  try {
    await build(ph);
    await ph.flush();
  } finally {
    await ph.shutdown(10_000);
  }
  assert.deepEqual(errors, [], `posthog-node reported errors for ${key}`);
}
