import { describe, expect, it } from 'vitest';
import { hasTraffic, initialLive, reduceLive } from './live';

describe('reduceLive', () => {
  it('counts announced events and remembers the newest seq', () => {
    let s = reduceLive(initialLive(), { type: 'ready', capture_url: 'http://127.0.0.1:1' });
    expect(s.connected).toBe(true);
    s = reduceLive(s, {
      type: 'events',
      request_id: 1,
      project: 'p',
      source: 'posthog',
      count: 3,
      first_seq: 1,
      last_seq: 3,
    });
    s = reduceLive(s, {
      type: 'events',
      request_id: 2,
      project: 'p',
      source: 'posthog',
      count: 2,
      first_seq: 4,
      last_seq: 5,
    });
    expect(s.events).toBe(5);
    expect(s.lastSeq).toBe(5);
    expect(s.revision.events).toBe(2);
    expect(s.revision.persons).toBe(0);
  });

  it('tracks identity changes and the devices they named', () => {
    let s = reduceLive(initialLive(), { type: 'devices', ids: ['p/a', 'p/b'], more: false, applied_seq: 9, replay: 0 });
    s = reduceLive(s, { type: 'warnings', new: 1, applied_seq: 10, replay: 0 });
    expect(s.devices).toEqual(['p/a', 'p/b']);
    expect(s.appliedSeq).toBe(10);
    expect(s.revision).toEqual({ events: 0, rejected: 0, faulted: 0, faults: 0, persons: 0, devices: 1, warnings: 1 });
  });

  it("follows a replay's progress, not the old model's higher seq", () => {
    let s = reduceLive(initialLive(), { type: 'persons', ids: ['x'], more: false, applied_seq: 500, replay: 0 });
    s = reduceLive(s, { type: 'persons', ids: ['x'], more: false, applied_seq: 120, replay: 1 });
    expect([s.appliedSeq, s.replay]).toEqual([120, 1]);
    s = reduceLive(s, { type: 'warnings', new: 1, applied_seq: 600, replay: 0 });
    expect(s.appliedSeq).toBe(120);
    s = reduceLive(s, { type: 'devices', ids: [], more: false, applied_seq: 300, replay: 1 });
    expect(s.appliedSeq).toBe(300);
  });

  it('refetches every view when the stream comes back after a loss, not on the first open', () => {
    let s = reduceLive(initialLive(), { type: 'open' });
    expect(s.everConnected).toBe(true);
    expect(s.revision).toEqual({ events: 0, rejected: 0, faulted: 0, faults: 0, persons: 0, devices: 0, warnings: 0 });
    s = reduceLive(s, { type: 'error' });
    expect(s.connected).toBe(false);
    expect(s.everConnected).toBe(true);
    s = reduceLive(s, { type: 'open' });
    // The `ready` that follows the open of the same connection bumps nothing more.
    s = reduceLive(s, { type: 'ready', capture_url: 'http://127.0.0.1:1' });
    expect(s.connected).toBe(true);
    expect(s.revision).toEqual({ events: 1, rejected: 1, faulted: 1, faults: 1, persons: 1, devices: 1, warnings: 1 });
  });

  it('counts faulted requests and fault rule changes apart from rejected ones', () => {
    let s = reduceLive(initialLive(), {
      type: 'faulted',
      request_id: 7,
      method: 'POST',
      path: '/batch/',
      status: 503,
      error: 'answered 503 by fault rule #1 (source=posthog,status=503)',
      events: 2,
    });
    s = reduceLive(s, { type: 'faults', active: 0, revision: 4 });
    expect(s.revision).toEqual({ events: 0, rejected: 0, faulted: 1, faults: 1, persons: 0, devices: 0, warnings: 0 });
    expect(s.rejected).toBe(0);
  });

  it('reloads everything after a lag and notes a lost connection', () => {
    let s = reduceLive(initialLive(), {
      type: 'rejected',
      request_id: 4,
      method: 'POST',
      path: '/e',
      status: 400,
      error: 'x',
    });
    s = reduceLive(s, { type: 'lagged', skipped: 12 });
    expect(s.lagged).toBe(12);
    expect(s.revision).toEqual({ events: 1, rejected: 2, faulted: 1, faults: 1, persons: 1, devices: 1, warnings: 1 });
    expect(reduceLive({ ...s, connected: true }, { type: 'error' }).connected).toBe(false);
  });

  it('reloads everything after a prune or an import, and starts counting again after a clear', () => {
    let s = reduceLive(initialLive(), {
      type: 'events',
      request_id: 1,
      project: 'p',
      source: 'posthog',
      count: 3,
      first_seq: 1,
      last_seq: 3,
    });
    s = reduceLive(s, { type: 'devices', ids: ['p/a'], more: false, applied_seq: 3, replay: 0 });
    const pruned = reduceLive(s, { type: 'pruned', events: 1, requests: 1, all: false });
    expect(pruned.revision).toEqual({
      events: 2,
      rejected: 1,
      faulted: 1,
      faults: 1,
      persons: 1,
      devices: 2,
      warnings: 1,
    });
    expect(pruned.lastSeq).toBe(3);
    const cleared = reduceLive(s, { type: 'pruned', events: 3, requests: 1, all: true });
    expect([cleared.events, cleared.lastSeq, cleared.appliedSeq, cleared.devices]).toEqual([0, 0, 0, []]);
    expect(cleared.revision.persons).toBe(1);
    const imported = reduceLive(s, { type: 'imported', dataset: 'import:x', requests: 2, events: 5 });
    expect(imported.revision).toEqual(pruned.revision);
    // A project's settings changed: the server replays it, so every view refetches.
    const settings = reduceLive(s, { type: 'settings', project: 'mp' });
    expect(settings.revision).toEqual(pruned.revision);
    // One project's traffic was deleted: every view refetches, arrival numbers go on.
    const deleted = reduceLive(s, { type: 'project_deleted', project: 'p', events: 3, requests: 1 });
    expect(deleted.revision).toEqual(pruned.revision);
    expect(deleted.lastSeq).toBe(3);
  });

  it('does not mutate the previous state', () => {
    const before = initialLive();
    reduceLive(before, { type: 'persons', ids: ['x'], more: false, applied_seq: 1, replay: 0 });
    expect(before.revision.persons).toBe(0);
  });
});

describe('hasTraffic', () => {
  it('flips once anything arrived, stored before or announced live', () => {
    expect(hasTraffic({ events: 0, requests: 0 }, initialLive())).toBe(false);
    expect(hasTraffic({ events: 0, requests: 1 }, initialLive())).toBe(true);
    const live = reduceLive(initialLive(), {
      type: 'events',
      request_id: 1,
      project: 'p',
      source: 's',
      count: 1,
      first_seq: 1,
      last_seq: 1,
    });
    expect(hasTraffic(null, live)).toBe(true);
  });
});
