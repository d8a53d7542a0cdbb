// Desktop benchmark (not part of CI): launch → window showing the UI, and the memory of the app's
// process tree (the app plus its WebKit helper processes) at idle, empty and with 1 000 000
// stored events, next to the headless `serve` on the same data dirs in the same run.
//
//   cargo build --release -p identity-inspector --features desktop
//   cp target/release/identity-inspector target/release/identity-inspector-desktop
//   cargo build --release -p identity-inspector      # the headless one, compared with
//   cargo run --release -p ingest-bench --bin rebuild-bench -- --data-dir /tmp/inspector-1m   # once
//   node tests/bench/desktop.mjs --big /tmp/inspector-1m [--runs 3]
//
// "Idle" is measured once the identity model has applied every stored event and 5 s have passed
// with no traffic. RSS counts shared pages in every process; PSS splits them, so the PSS sum is
// the tree's real share of memory (both are reported).

import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { REPO_DIR, startServer, waitFor } from '../e2e/lib/server.mjs';
import { startXvfb } from '../e2e/lib/xvfb.mjs';

const { values: opts } = parseArgs({
  options: {
    big: { type: 'string' },
    runs: { type: 'string', default: '3' },
    desktop: { type: 'string', default: path.join(REPO_DIR, 'target/release/identity-inspector-desktop') },
    serve: { type: 'string', default: path.join(REPO_DIR, 'target/release/identity-inspector') },
    settle: { type: 'string', default: '5000' },
  },
});
// The servers run with the repository as their working directory.
for (const k of ['desktop', 'serve', 'big']) if (opts[k]) opts[k] = path.resolve(opts[k]);
const runs = Number(opts.runs);
const settleMs = Number(opts.settle);
for (const bin of [opts.desktop, opts.serve])
  if (!existsSync(bin)) throw new Error(`missing ${bin}: see the build commands at the top of this file`);
if (opts.big && !existsSync(path.join(opts.big, 'inspector.db')))
  throw new Error(`${opts.big} holds no inspector.db (run rebuild-bench with --data-dir first)`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** pid and every descendant, from /proc. */
function tree(root) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    out.push(pid);
    stack.push(...(children.get(pid) || []));
  }
  return out;
}

/** { rss, pss, processes } of a process tree, in MB. */
function memory(root) {
  let rss = 0;
  let pss = 0;
  const pids = tree(root);
  for (const pid of pids) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss += Number(rollup.match(/^Rss:\s+(\d+)/m)?.[1] ?? 0);
      pss += Number(rollup.match(/^Pss:\s+(\d+)/m)?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return { rss: rss / 1024, pss: pss / 1024, processes: pids.length };
}

/** A copy of the big data dir, so the desktop's settings and lock never touch the original. */
function dataDirFor(kind, source) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `inspector-bench-${kind}-`));
  if (source) for (const f of ['inspector.db']) cpSync(path.join(source, f), path.join(dir, f));
  return dir;
}

async function idle(app) {
  // The identity model has applied everything stored, then nothing happens for a while.
  const last = (await app.api('/api/events?limit=1')).events[0]?.seq ?? 0;
  await waitFor(async () => (await app.api('/api/health')).identity.applied_seq >= last, 300_000, { interval: 500 });
  await sleep(settleMs);
  return memory(app.child.pid);
}

async function measureDesktop(display, source) {
  const dataDir = dataDirFor('desktop', source);
  const started = performance.now();
  const app = await startServer({
    label: 'bench-desktop',
    bin: opts.desktop,
    subcommand: null,
    dataDir,
    args: ['--test-probe'],
    env: { DISPLAY: display, RUST_LOG: 'warn' },
    startTimeout: 120_000,
  });
  await waitFor(async () => (await app.api('/api/test/probe')).report?.ready, 120_000, { interval: 20 });
  const launchMs = performance.now() - started;
  const mem = await idle(app);
  await app.stop({ timeout: 60_000 });
  rmSync(dataDir, { recursive: true, force: true });
  return { launchMs, ...mem };
}

async function measureServe(source) {
  const dataDir = dataDirFor('serve', source);
  const started = performance.now();
  const app = await startServer({
    label: 'bench-serve',
    bin: opts.serve,
    dataDir,
    env: { RUST_LOG: 'warn' },
    startTimeout: 120_000,
  });
  await app.api('/api/health');
  const launchMs = performance.now() - started;
  const mem = await idle(app);
  await app.stop({ timeout: 60_000 });
  rmSync(dataDir, { recursive: true, force: true });
  return { launchMs, ...mem };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => (Number.isFinite(n) ? n.toFixed(0) : '–');

const xvfb = await startXvfb();
const cases = [['empty', null]];
if (opts.big) cases.push(['1M events', opts.big]);
const rows = [];
try {
  for (const [label, source] of cases) {
    const desk = [];
    const serve = [];
    for (let i = 0; i < runs; i++) {
      desk.push(await measureDesktop(xvfb.display, source));
      serve.push(await measureServe(source));
      console.error(
        `${label} run ${i + 1}: desktop ${JSON.stringify(desk.at(-1))} serve ${JSON.stringify(serve.at(-1))}`,
      );
    }
    const m = (xs, k) => median(xs.map((x) => x[k]));
    rows.push([label, 'desktop', m(desk, 'launchMs'), m(desk, 'rss'), m(desk, 'pss'), m(desk, 'processes')]);
    rows.push([
      label,
      'serve (headless)',
      m(serve, 'launchMs'),
      m(serve, 'rss'),
      m(serve, 'pss'),
      m(serve, 'processes'),
    ]);
  }
} finally {
  await xvfb.stop();
}
console.log(
  `\nmedians of ${runs} runs (launch: desktop = until the window reported the rendered UI; serve = until /api/health answered)\n`,
);
console.log('| data | app | launch → UI (ms) | idle RSS, process tree (MB) | idle PSS (MB) | processes |');
console.log('|---|---|---|---|---|---|');
for (const [data, app, launch, rss, pss, procs] of rows)
  console.log(`| ${data} | ${app} | ${fmt(launch)} | ${fmt(rss)} | ${fmt(pss)} | ${procs} |`);
