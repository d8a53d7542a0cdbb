// The tests/.venv Python with the pinned `posthog` SDK, shared by the Python SDK tests.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { TESTS_DIR } from './server.mjs';

export const VENV = path.join(TESTS_DIR, '.venv');
export const PY = path.join(VENV, 'bin', 'python');
const REQUIREMENTS = path.join(TESTS_DIR, 'python', 'requirements.txt');

function run(cmd, args, timeout) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, cwd: TESTS_DIR });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/** Creates tests/.venv if missing and installs the pinned SDK if it is not there yet. */
export function ensureVenv() {
  const pinned = readFileSync(REQUIREMENTS, 'utf8').match(/^posthog==(\S+)/m)?.[1];
  if (!existsSync(PY)) run('python3', ['-m', 'venv', VENV], 30_000);
  const check = spawnSync(PY, ['-c', `import posthog, sys; sys.exit(0 if posthog.VERSION == ${JSON.stringify(pinned)} else 1)`], {
    timeout: 15_000,
  });
  if (check.status !== 0) {
    run(PY, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '--timeout', '20', '-r', REQUIREMENTS], 55_000);
  }
}

/** Runs a script with the venv Python; resolves to { status, stdout, stderr, error }. */
export function runPython(script, args, { timeout = 40_000 } = {}) {
  return spawnSync(PY, [script, ...args], { encoding: 'utf8', timeout, cwd: TESTS_DIR });
}
