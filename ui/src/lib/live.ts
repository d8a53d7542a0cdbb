// The live stream (`/api/stream`) reduced to what the views need: totals, the newest seq and a
// revision counter per kind of change (`faulted`: a request a fault rule answered was stored;
// `faults`: the fault rules changed). Views refetch when "their" revision moves; a `lagged`
// message (the server dropped announcements for this slow reader), a `pruned` one (old data or
// everything was removed: what the views show may be gone), a `project_deleted` one (one
// project's traffic and identity model went), an `imported` one (a data set appeared in one go)
// and a `settings` one (a project's identity settings changed and the server replays it: its
// persons, lanes and findings may all differ) bump everything, and so does
// reconnecting after the stream was lost (the server may have restarted with other data).

import type { StreamMessage } from './types';

export interface LiveState {
  connected: boolean;
  /** The stream was open at least once: a later disconnect means the server went away. */
  everConnected: boolean;
  /** Events and rejected requests announced since the page loaded. */
  events: number;
  rejected: number;
  /** Newest event seq announced (0: none yet). */
  lastSeq: number;
  /** Identity model progress: the newest seq it has applied, in its newest replay (the seq
   * starts again from below when the model replays the store after a settings change, a prune
   * or an import). */
  appliedSeq: number;
  replay: number;
  revision: {
    events: number;
    rejected: number;
    faulted: number;
    faults: number;
    persons: number;
    devices: number;
    warnings: number;
  };
  /** Lane ids announced by the latest `devices` message. */
  devices: string[];
  lagged: number;
}

export function initialLive(): LiveState {
  return {
    connected: false,
    everConnected: false,
    events: 0,
    rejected: 0,
    lastSeq: 0,
    appliedSeq: 0,
    replay: 0,
    revision: { events: 0, rejected: 0, faulted: 0, faults: 0, persons: 0, devices: 0, warnings: 0 },
    devices: [],
    lagged: 0,
  };
}

export function bumpAll(r: LiveState['revision']): LiveState['revision'] {
  return {
    events: r.events + 1,
    rejected: r.rejected + 1,
    faulted: r.faulted + 1,
    faults: r.faults + 1,
    persons: r.persons + 1,
    devices: r.devices + 1,
    warnings: r.warnings + 1,
  };
}

/** The model's progress after one of its announcements: a higher `replay` starts `appliedSeq`
 * again (the old model's highest seq is no longer applied). */
function progress(
  s: LiveState,
  msg: { applied_seq: number; replay: number },
): Pick<LiveState, 'appliedSeq' | 'replay'> {
  if (msg.replay > s.replay) return { appliedSeq: msg.applied_seq, replay: msg.replay };
  if (msg.replay < s.replay) return { appliedSeq: s.appliedSeq, replay: s.replay };
  return { appliedSeq: Math.max(s.appliedSeq, msg.applied_seq), replay: s.replay };
}

export function reduceLive(s: LiveState, msg: StreamMessage | { type: 'open' } | { type: 'error' }): LiveState {
  const bump = (key: keyof LiveState['revision']) => ({ ...s.revision, [key]: s.revision[key] + 1 });
  switch (msg.type) {
    case 'open':
    case 'ready':
      if (s.connected) return s;
      // Back after a loss: whatever happened meanwhile (a restart, a clear, traffic) was never
      // announced to this page, so every view refetches.
      return s.everConnected
        ? { ...s, connected: true, revision: bumpAll(s.revision) }
        : { ...s, connected: true, everConnected: true };
    case 'error':
      return { ...s, connected: false };
    case 'events':
      return {
        ...s,
        events: s.events + msg.count,
        lastSeq: Math.max(s.lastSeq, msg.last_seq),
        revision: bump('events'),
      };
    case 'rejected':
      return { ...s, rejected: s.rejected + 1, revision: bump('rejected') };
    case 'faulted':
      return { ...s, revision: bump('faulted') };
    case 'faults':
      return { ...s, revision: bump('faults') };
    case 'persons':
      return { ...s, ...progress(s, msg), revision: bump('persons') };
    case 'devices':
      return { ...s, ...progress(s, msg), devices: msg.ids, revision: bump('devices') };
    case 'warnings':
      return { ...s, ...progress(s, msg), revision: bump('warnings') };
    case 'lagged':
      return { ...s, lagged: s.lagged + msg.skipped, revision: bumpAll(s.revision) };
    case 'pruned':
      // After a clear, arrival numbers start again from 1.
      return msg.all
        ? { ...s, events: 0, rejected: 0, lastSeq: 0, appliedSeq: 0, devices: [], revision: bumpAll(s.revision) }
        : { ...s, revision: bumpAll(s.revision) };
    case 'project_deleted':
    case 'imported':
    case 'settings':
      return { ...s, revision: bumpAll(s.revision) };
    default:
      return s;
  }
}

/** Whether anything has ever arrived: totals from `/api/health` plus what the stream announced. */
export function hasTraffic(totals: { events: number; requests: number } | null, live: LiveState): boolean {
  return (totals ? totals.events + totals.requests : 0) + live.events + live.rejected > 0;
}
