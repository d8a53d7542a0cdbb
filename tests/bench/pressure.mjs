// Pressure benchmark (not part of CI; `e2e/pressure.test.mjs` is its small, asserted form): the
// figures of docs/RELIABILITY.md.
//
//   cargo build --release --locked -p identity-inspector
//   node tests/bench/pressure.mjs --bin target/release/identity-inspector
//
// 1. Capture latency: one tiny event every 50 ms on a fresh connection (open loop), idle and then
//    under each pressure alone and all together — an import of a large file repeated without
//    pause, downloads of /api/export that stop reading, SSE readers, idle sockets, and two lens
//    tabs on a person with many merged ids. Each phase reports p50/p99/max and failed probes (a
//    probe gives up after 10 s, an SDK's timeout, and counts with the 10 s it waited) and how long
//    capture took to be fast again after the pressure stopped; at the end every acknowledged
//    event must be stored (by uuid, via /api/events).
// 2. Peak RSS per import kind (bundle, HAR, HAR zip, NDJSON, NDJSON.gz), an ordinary large file
//    and a "bomb" (one body or line of --bomb-mb megabytes; a few MB in the compressed kinds), for
//    the server's /api/import (VmHWM of a fresh server, before and after) and for
//    `identity-inspector import` (its VmHWM sampled until it exits).
//
// Prints Markdown tables and writes everything to tests/artifacts/pressure-bench.json.
// The idle sockets and SSE readers are kept within the soft open-file limit of this process and
// of the server (node cannot raise its own; run it from a shell with a higher `ulimit -n`).
//
// Options: --bin, --idle-ms 10000, --phase-ms 20000, --sse 1000, --sockets 2000, --exports 1,
// --ids 10000 (merged ids of the lens' person), --import-kind har, --import-events 200000,
// --rss-events 200000, --bomb-mb 1024, --only latency|rss, --phases idle,import,... (a subset).

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { IMPORT_EXTENSIONS, IMPORT_KINDS, writeImportFile } from '../e2e/lib/import-files.mjs';
import {
  controlToken,
  holdExports,
  importLoop,
  importThroughApi,
  inFlightLimit,
  latencySummary,
  lensLoop,
  megaPersonEvents,
  openFilesLimit,
  openIdleSockets,
  openSseReaders,
  postBatch,
  procStatusMb,
  runWithPeakRss,
  sendEvents,
  startCaptureProbe,
  storedUuids,
} from '../e2e/lib/pressure.mjs';
import { artifactPath, INSPECTOR_BIN, makeDataDir, startServer } from '../e2e/lib/server.mjs';

const { values: opts } = parseArgs({
  options: {
    bin: { type: 'string', default: INSPECTOR_BIN },
    'idle-ms': { type: 'string', default: '10000' },
    'phase-ms': { type: 'string', default: '20000' },
    sse: { type: 'string', default: '1000' },
    sockets: { type: 'string', default: '2000' },
    exports: { type: 'string', default: '1' },
    ids: { type: 'string', default: '10000' },
    'import-kind': { type: 'string', default: 'har' },
    'import-events': { type: 'string', default: '200000' },
    'rss-events': { type: 'string', default: '200000' },
    'bomb-mb': { type: 'string', default: '1024' },
    only: { type: 'string' },
    phases: { type: 'string', default: 'idle,import,export,sse,sockets,lens,all' },
  },
});
const bin = path.resolve(opts.bin);
const num = (k) => Number(opts[k]);
const PROBE = 'phc_bench_probe';
const MEGA = 'phc_bench_mega';
/** File descriptors left to the database, logs and the probe's own connections. */
const FD_RESERVE = 200 + inFlightLimit();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'inspector-pressure-bench-'));
const report = { bin, started: new Date().toISOString(), options: opts, latency: [], rss: [] };
const MB = (bytes) => Math.round((bytes / 2 ** 20) * 100) / 100;

/** Starts the named pressures; `snapshot()` reads what each has done so far. */
async function applyPressures(names, { server, token, importFile, fdLimit }) {
  const held = [];
  const views = {};
  const has = (n) => names.includes(n);
  if (has('import')) {
    const loop = importLoop(server, token, importFile);
    held.push(loop);
    views.import = () => loop.stats;
  }
  if (has('export')) {
    const exports = await holdExports(server.url, num('exports'));
    held.push(exports);
    views.export = () => ({ asked: num('exports'), held: exports.held });
  }
  let budget = fdLimit - FD_RESERVE;
  if (has('sse')) {
    const n = Math.max(0, Math.min(num('sse'), budget));
    budget -= n;
    const sse = await openSseReaders(server.url, n);
    held.push(sse);
    views.sse = () => ({ asked: num('sse'), within_fd_limit: n, ...sse.stats });
  }
  if (has('sockets')) {
    const n = Math.max(0, Math.min(num('sockets'), budget));
    const sockets = await openIdleSockets(server.port, n);
    held.push(sockets);
    views.sockets = () => ({ asked: num('sockets'), within_fd_limit: n, ...sockets.stats });
  }
  if (has('lens')) {
    const lens = lensLoop(server, MEGA, { concurrency: 2 });
    held.push(lens);
    views.lens = () => lens.stats;
  }
  return {
    snapshot: () => Object.fromEntries(Object.entries(views).map(([k, view]) => [k, view()])),
    async close() {
      for (const h of held) await h.close();
    },
  };
}

/**
 * Waits until capture answers three probes in a row within 200 ms (what a pressure left running
 * inside the server, e.g. an import whose upload was abandoned, must not leak into the next
 * phase); returns how long that took, at most `limitMs`. Acknowledged probes go to `acknowledged`.
 */
async function settle(server, acknowledged, limitMs = 300_000) {
  const started = performance.now();
  let fast = 0;
  while (fast < 3 && performance.now() - started < limitMs) {
    const uuid = randomUUID();
    const r = await postBatch(server.port, PROBE, [{ event: 'settle', distinct_id: 'probe-settle', uuid }], {
      timeout: limitMs,
    });
    if (r.status === 200) acknowledged.push(uuid);
    fast = r.status === 200 && r.ms < 200 ? fast + 1 : 0;
    await sleep(100);
  }
  return Math.round(performance.now() - started);
}

async function latencyFigures() {
  const importFile = await writeImportFile(
    path.join(tmp, `pressure.${IMPORT_EXTENSIONS[opts['import-kind']]}`),
    opts['import-kind'],
    { events: num('import-events'), token: 'phc_bench_import' },
  );
  const server = await startServer({ label: 'pressure-bench', startTimeout: 60_000, bin });
  try {
    const token = await controlToken(server);
    const fdLimit = Math.min(openFilesLimit(), openFilesLimit(server.child.pid));
    console.error(`seeding ${num('ids')} merged ids and 20 000 filler events (open-file limit ${fdLimit})`);
    const seeded = await sendEvents(server.port, MEGA, megaPersonEvents({ ids: num('ids'), filler: 20_000 }), {
      timeout: 1_800_000,
    });
    let started = performance.now();
    await server.api(`/api/lens?project=${MEGA}`, { timeout: 1_800_000 });
    report.first_lens_ms = Math.round(performance.now() - started);
    const acknowledged = [];
    for (const phase of opts.phases.split(',')) {
      const names = phase === 'all' ? ['import', 'export', 'sse', 'sockets', 'lens'] : phase === 'idle' ? [] : [phase];
      console.error(`phase ${phase}`);
      started = performance.now();
      const pressure = await applyPressures(names, { server, token, importFile, fdLimit });
      const openingMs = Math.round(performance.now() - started);
      const probe = startCaptureProbe({ port: server.port, token: PROBE });
      await sleep(num(phase === 'idle' ? 'idle-ms' : 'phase-ms'));
      const result = await probe.stop();
      const pressures = pressure.snapshot();
      await pressure.close();
      acknowledged.push(...result.acknowledged);
      const row = { phase, opening_ms: openingMs, ...latencySummary(result), pressures };
      row.settle_ms = await settle(server, acknowledged);
      row.peak_rss_mb = Math.round(procStatusMb(server.child.pid, 'VmHWM'));
      row.failures = result.failures.slice(0, 5);
      report.latency.push(row);
      console.error(JSON.stringify({ ...row, pressures: undefined }));
      await sleep(2_000);
    }
    const probes = await storedUuids(server, PROBE);
    const mega = await storedUuids(server, MEGA);
    report.acknowledged = acknowledged.length + seeded.length;
    report.lost = acknowledged.filter((u) => !probes.has(u)).length + seeded.filter((u) => !mega.has(u)).length;
  } finally {
    await server.stop({ timeout: 60_000 });
  }
}

async function rssFigures() {
  for (const shape of [{ events: num('rss-events') }, { bombMb: num('bomb-mb') }]) {
    for (const kind of IMPORT_KINDS) {
      const label = shape.bombMb ? `bomb ${shape.bombMb} MB` : `${shape.events} events`;
      const file = path.join(tmp, `rss-${kind}.${IMPORT_EXTENSIONS[kind]}`);
      await writeImportFile(file, kind, { ...shape, token: 'phc_bench_rss' });
      const row = { kind, input: label, file_mb: MB(statSync(file).size) };
      console.error(`import ${kind} (${label}, ${row.file_mb} MB file)`);

      const server = await startServer({ label: `pressure-rss-${kind}`, startTimeout: 60_000, bin });
      try {
        row.server_before_mb = Math.round(procStatusMb(server.child.pid, 'VmHWM'));
        const r = await importThroughApi(server, await controlToken(server), file, { timeout: 1_800_000 });
        row.server_status = r.status;
        row.server_ms = Math.round(r.ms);
        row.server_peak_mb = Math.round(procStatusMb(server.child.pid, 'VmHWM'));
        row.server_after_mb = Math.round(procStatusMb(server.child.pid, 'VmRSS'));
        if (r.status !== 200) row.server_error = r.body.slice(0, 300);
      } finally {
        await server.stop({ timeout: 60_000 });
      }

      const dataDir = makeDataDir('pressure-cli');
      const c = await runWithPeakRss(bin, ['import', '--data-dir', dataDir, file], { timeout: 1_800_000 });
      rmSync(dataDir, { recursive: true, force: true });
      Object.assign(row, { cli_code: c.code ?? c.signal, cli_ms: Math.round(c.ms), cli_peak_mb: Math.round(c.peakMb) });
      if (c.code !== 0) row.cli_error = c.stderr.trim().split('\n').at(-1)?.slice(0, 300);
      rmSync(file, { force: true });
      report.rss.push(row);
      console.error(JSON.stringify(row));
    }
  }
}

function markdown() {
  const lines = [];
  if (report.latency.length) {
    lines.push(
      '| capture under | probes | p50 ms | p99 ms | max ms | failed | capture fast again after | server VmHWM MB (peak so far) |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const r of report.latency)
      lines.push(
        `| ${r.phase} | ${r.n} | ${r.p50} | ${r.p99} | ${r.max} | ${r.failed} | ${(r.settle_ms / 1000).toFixed(1)} s | ${r.peak_rss_mb} |`,
      );
    lines.push(
      '',
      `acknowledged ${report.acknowledged}, lost ${report.lost}; first lens ${report.first_lens_ms} ms`,
      '',
    );
  }
  if (report.rss.length) {
    lines.push('A status or exit code after a figure: the import was refused; the peak is what reading it cost.', '');
    lines.push(
      '| import kind | input | file MB | /api/import peak RSS MB | s | `import` CLI peak RSS MB | s |',
      '|---|---|---|---|---|---|---|',
    );
    for (const r of report.rss)
      lines.push(
        `| ${r.kind} | ${r.input} | ${r.file_mb} | ${r.server_peak_mb}${r.server_status === 200 ? '' : ` (${r.server_status})`} | ${(r.server_ms / 1000).toFixed(1)} | ${r.cli_peak_mb}${r.cli_code === 0 ? '' : ` (exit ${r.cli_code})`} | ${(r.cli_ms / 1000).toFixed(1)} |`,
      );
  }
  return lines.join('\n');
}

try {
  if (!opts.only || opts.only === 'latency') await latencyFigures();
  if (!opts.only || opts.only === 'rss') await rssFigures();
} finally {
  rmSync(tmp, { recursive: true, force: true });
  report.finished = new Date().toISOString();
  writeFileSync(artifactPath('pressure-bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(markdown());
}
