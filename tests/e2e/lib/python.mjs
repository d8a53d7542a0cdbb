// The tests/.venv Python with the pinned `posthog` SDK, shared by the Python SDK tests.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { TESTS_DIR } from './server.mjs';

export const VENV = path.join(TESTS_DIR, '.venv');
export const PY = path.join(VENV, 'bin', 'python');
const REQUIREMENTS = path.join(TESTS_DIR, 'python', 'requirements.txt');

function run(cmd, args, timeout) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, cwd: TESTS_DIR });
  if (r.error || r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`,
    );
  }
  return r;
}

/**
 * Creates tests/.venv if missing and installs the pinned SDKs when requirements.txt changed since
 * the last install (a stamp in the venv holds the file's text).
 */
export function ensureVenv() {
  const wanted = readFileSync(REQUIREMENTS, 'utf8');
  const stamp = path.join(VENV, '.requirements-installed');
  if (!existsSync(PY)) run('python3', ['-m', 'venv', VENV], 120_000);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== wanted) {
    run(
      PY,
      ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '--timeout', '20', '-r', REQUIREMENTS],
      110_000,
    );
    writeFileSync(stamp, wanted);
  }
}

/** Runs a script with the venv Python; resolves to { status, stdout, stderr, error }. */
export function runPython(script, args, { timeout = 40_000 } = {}) {
  return spawnSync(PY, [script, ...args], { encoding: 'utf8', timeout, cwd: TESTS_DIR });
}
