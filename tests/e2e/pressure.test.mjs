// Pressure: live capture while everything else that can hold the server runs at once — an import
// repeated without pause, a download of /api/export that stops reading, many live-stream (SSE)
// readers, idle sockets that never send a byte, and two lens tabs on a person with thousands of
// merged ids. Capture's p99 latency under all of it stays within a generous multiple of its idle
// p99, no probe fails (a probe every 100 ms on a fresh connection, giving up after an SDK's 10 s),
// every acknowledged event is stored (counted by uuid through /api/events),
// and the server's peak resident set (VmHWM in /proc/<pid>/status) stays under a bound.
// Before that, imports run alone: an import commits in chunks that live capture commits between,
// so capture's p99 while imports run stays within 2× its idle p99 (with a floor, see below).
//
// The scale is small enough for CI; `bench/pressure.mjs` measures each pressure alone and all
// together at full scale for docs/RELIABILITY.md. Environment (defaults in brackets):
//   PRESSURE_IDLE_MS [5000], PRESSURE_MS [15000]   how long capture is probed idle and under pressure
//   PRESSURE_SSE [250], PRESSURE_SOCKETS [500]      SSE readers and idle sockets (kept within the
//                                                   open-file limits of this process and the server)
//   PRESSURE_IDS [1500]                              merged ids of the lens' person
//   PRESSURE_IMPORT_EVENTS [20000]                   events in the repeatedly imported NDJSON file (0
//                                                    leaves imports out)
//   PRESSURE_IMPORT_MS [10000]                       how long capture is probed while imports run alone
//   PRESSURE_IMPORT_FACTOR [2], PRESSURE_IMPORT_FLOOR_MS [150]   p99 bound while importing:
//                                                    max(factor × idle p99, floor). The floor is noise,
//                                                    not the import: one import chunk holds the writer
//                                                    for 15 ms at most, but on a shared 2-core CI machine
//                                                    a debug build's capture p99 moves by tens of ms
//                                                    between two idle runs, and the import's decoding
//                                                    takes a core.
//   PRESSURE_P99_FACTOR [10], PRESSURE_P99_FLOOR_MS [1000]   p99 bound: max(factor × idle p99, floor)
//   PRESSURE_PEAK_MB [800]                           bound on the server's VmHWM (400–504 MB measured
//                                                    on the debug build before the reliability fixes;
//                                                    666 MB since the mega-person lens replays five
//                                                    vendors, not three, and imports run beside it)

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { writeImportFile } from './lib/import-files.mjs';
import {
  controlToken,
  holdExports,
  importLoop,
  inFlightLimit,
  latencySummary,
  lensLoop,
  megaPersonEvents,
  openFilesLimit,
  openIdleSockets,
  openSseReaders,
  procStatusMb,
  sendEvents,
  startCaptureProbe,
  storedUuids,
} from './lib/pressure.mjs';
import { artifactPath, installWatchdog, startServer } from './lib/server.mjs';

installWatchdog(300_000);

const env = (name, fallback) => Number(process.env[name] || fallback);
const IDLE_MS = env('PRESSURE_IDLE_MS', 5_000);
const PRESSURE_MS = env('PRESSURE_MS', 15_000);
const SSE = env('PRESSURE_SSE', 250);
const SOCKETS = env('PRESSURE_SOCKETS', 500);
const IDS = env('PRESSURE_IDS', 1_500);
const IMPORT_EVENTS = Number(process.env.PRESSURE_IMPORT_EVENTS ?? 20_000);
const IMPORT_MS = env('PRESSURE_IMPORT_MS', 10_000);
const IMPORT_FACTOR = env('PRESSURE_IMPORT_FACTOR', 2);
const IMPORT_FLOOR_MS = env('PRESSURE_IMPORT_FLOOR_MS', 150);
const P99_FACTOR = env('PRESSURE_P99_FACTOR', 10);
const P99_FLOOR_MS = env('PRESSURE_P99_FLOOR_MS', 1_000);
const PEAK_MB = env('PRESSURE_PEAK_MB', 800);

const PROBE = 'phc_pressure_probe';
const MEGA = 'phc_pressure_mega';
/** A probe every 100 ms that gives up after 10 s, as an SDK would. */
const PROBE_TIMING = { intervalMs: 100, timeout: 10_000 };
/** File descriptors left to everything else: the database, logs, and the probe's own connections. */
const FD_RESERVE = 200 + inFlightLimit(PROBE_TIMING);

let server;
let tmp;
const run = {};

before(
  async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'inspector-pressure-'));
    const importFile =
      IMPORT_EVENTS > 0
        ? await writeImportFile(path.join(tmp, 'pressure.ndjson'), 'ndjson', {
            events: IMPORT_EVENTS,
            token: 'phc_pressure_import',
          })
        : null;
    server = await startServer({ label: 'pressure' });
    const token = await controlToken(server);

    // The person of the lens, and enough ordinary events that an export outgrows the socket buffers.
    const seeded = await sendEvents(server.port, MEGA, megaPersonEvents({ ids: IDS, filler: 20_000 }));
    let started = performance.now();
    await server.api(`/api/lens?project=${MEGA}`, { timeout: 600_000 });
    run.firstLensMs = Math.round(performance.now() - started);

    let probe = startCaptureProbe({ port: server.port, token: PROBE, ...PROBE_TIMING });
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idle = await probe.stop();

    // Imports alone: capture's latency while they run, against the idle figure just measured.
    let importing = null;
    if (importFile) {
      const alone = importLoop(server, token, importFile, { name: 'alone' });
      probe = startCaptureProbe({ port: server.port, token: PROBE, ...PROBE_TIMING });
      await new Promise((resolve) => setTimeout(resolve, IMPORT_MS));
      importing = await probe.stop();
      await alone.close();
      run.importing = latencySummary(importing);
      run.importsAlone = {
        done: alone.stats.done,
        failed: alone.stats.failed,
        ms: alone.stats.ms,
        errors: alone.stats.errors,
      };
    }

    // Both ends must hold the sockets: stay under the smaller soft limit on open files.
    const fdLimit = Math.min(openFilesLimit(), openFilesLimit(server.child.pid));
    const sockets = Math.max(0, Math.min(SOCKETS, fdLimit - SSE - FD_RESERVE));
    started = performance.now();
    const imports = importFile ? importLoop(server, token, importFile) : null;
    const exports = await holdExports(server.url, 1);
    const sse = await openSseReaders(server.url, SSE);
    const idleSockets = await openIdleSockets(server.port, sockets);
    const lens = lensLoop(server, MEGA, { concurrency: 2 });
    run.openingMs = Math.round(performance.now() - started);

    probe = startCaptureProbe({ port: server.port, token: PROBE, ...PROBE_TIMING });
    await new Promise((resolve) => setTimeout(resolve, PRESSURE_MS));
    const loaded = await probe.stop();

    await exports.close();
    await sse.close();
    await idleSockets.close();
    await imports?.close();
    await lens.close();

    run.idle = latencySummary(idle);
    run.loaded = latencySummary(loaded);
    run.failures = loaded.failures.slice(0, 10);
    run.pressures = {
      fd_limit: fdLimit,
      export_held: exports.held,
      sse: { asked: SSE, ...sse.stats },
      idle_sockets: { asked: SOCKETS, kept_within_fd_limit: sockets, ...idleSockets.stats },
      imports: imports && {
        done: imports.stats.done,
        failed: imports.stats.failed,
        ms: imports.stats.ms,
        errors: imports.stats.errors,
      },
      lens: { done: lens.stats.done, failed: lens.stats.failed, ms: lens.stats.ms, errors: lens.stats.errors },
    };
    run.peakMb = Math.round(procStatusMb(server.child.pid, 'VmHWM'));

    const acknowledged = [...idle.acknowledged, ...(importing?.acknowledged ?? []), ...loaded.acknowledged];
    const probes = await storedUuids(server, PROBE);
    const mega = await storedUuids(server, MEGA);
    run.lost = [...acknowledged.filter((u) => !probes.has(u)), ...seeded.filter((u) => !mega.has(u))];
    run.acknowledged = acknowledged.length + seeded.length;

    writeFileSync(artifactPath('pressure-summary.json'), `${JSON.stringify(run, null, 2)}\n`);
    console.log(JSON.stringify({ ...run, pressures: { ...run.pressures, imports: undefined, lens: undefined } }));
  },
  { timeout: 240_000 },
);

after(async () => {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('every pressure was applied', () => {
  assert.ok(run.pressures.sse.open >= SSE * 0.9, `SSE readers open: ${JSON.stringify(run.pressures.sse)}`);
  assert.ok(
    run.pressures.idle_sockets.open >= run.pressures.idle_sockets.kept_within_fd_limit * 0.9,
    `idle sockets open: ${JSON.stringify(run.pressures.idle_sockets)}`,
  );
  assert.equal(run.pressures.export_held, 1, 'the export download was held unread');
  if (IMPORT_EVENTS > 0) {
    assert.ok(run.pressures.imports.done >= 1, `an import finished: ${JSON.stringify(run.pressures.imports)}`);
  }
});

test('capture answers every probe under pressure', () => {
  assert.deepEqual(run.failures, [], `${run.loaded.failed} of ${run.loaded.n} probes failed`);
});

test(
  `capture p99 while imports run is within ${IMPORT_FACTOR}× its idle p99 (at least ${IMPORT_FLOOR_MS} ms)`,
  {
    skip: IMPORT_EVENTS === 0 && 'PRESSURE_IMPORT_EVENTS=0',
  },
  () => {
    assert.ok(
      run.importsAlone.done >= 1 && run.importsAlone.failed === 0,
      `imports: ${JSON.stringify(run.importsAlone)}`,
    );
    assert.equal(run.importing.failed, 0, `${run.importing.failed} probes failed while importing`);
    const bound = Math.max(IMPORT_FACTOR * run.idle.p99, IMPORT_FLOOR_MS);
    assert.ok(
      run.importing.p99 <= bound,
      `p99 ${run.importing.p99} ms while importing vs ${run.idle.p99} ms idle (bound ${bound} ms): ${JSON.stringify(run.importing)}`,
    );
  },
);

test(`capture p99 under pressure is within ${P99_FACTOR}× its idle p99 (at least ${P99_FLOOR_MS} ms)`, () => {
  const bound = Math.max(P99_FACTOR * run.idle.p99, P99_FLOOR_MS);
  assert.ok(
    run.loaded.p99 <= bound,
    `p99 ${run.loaded.p99} ms under pressure vs ${run.idle.p99} ms idle (bound ${bound} ms): ${JSON.stringify(run.loaded)}`,
  );
});

test('every acknowledged event is stored', () => {
  assert.ok(run.acknowledged > 0);
  assert.deepEqual(run.lost.slice(0, 10), [], `${run.lost.length} of ${run.acknowledged} acknowledged events missing`);
});

test(`the server's peak resident set stays under ${PEAK_MB} MB`, () => {
  assert.ok(run.peakMb < PEAK_MB, `VmHWM ${run.peakMb} MB`);
});
