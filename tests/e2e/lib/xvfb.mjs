// A private X display for desktop tests: `Xvfb -displayfd` picks a free display number and tells
// it, so several runs never collide and no xvfb-run/xauth dance is needed.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const XVFB = '/usr/bin/Xvfb';
/** ImageMagick's real `import` (a stand-in `convert` may shadow ImageMagick on PATH). */
export const IMPORT = '/usr/bin/import';

export function xvfbAvailable() {
  return existsSync(XVFB);
}

/** Starts Xvfb; resolves to { display: ':N', stop() }. */
export async function startXvfb({ screen = '1440x900x24', timeout = 10_000 } = {}) {
  const child = spawn(XVFB, ['-displayfd', '3', '-screen', '0', screen, '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const display = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb gave no display within ${timeout} ms: ${stderr}`)), timeout);
    child.stdio[3].on('data', (c) => {
      out += c;
      const m = out.match(/^(\d+)\n/);
      if (m) {
        clearTimeout(timer);
        resolve(`:${m[1]}`);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}): ${stderr}`));
    });
  });
  return {
    display,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Saves the whole screen of `display` as a PNG; returns false when ImageMagick is missing. */
export function screenshot(display, file) {
  if (!existsSync(IMPORT)) return false;
  execFileSync(IMPORT, ['-display', display, '-window', 'root', file], { timeout: 30_000 });
  return true;
}
