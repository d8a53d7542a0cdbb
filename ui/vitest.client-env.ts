// The Vitest environment of the UI's tests: Node's globals, as in Vitest's `node` environment, but
// modules are transformed as for the browser. Under `node`, Svelte compiles `.svelte.ts` modules
// for the server, where `$effect` never runs, and LiveQuery's tests need effects that run.
import type { Environment } from 'vitest/environments';

export default {
  name: 'svelte-client',
  viteEnvironment: 'client',
  setup: () => ({ teardown: () => {} }),
} satisfies Environment;
