import { describe, expect, it } from 'vitest';
import {
  busyIntervals,
  eventCount,
  isChainLane,
  laneTitle,
  laneWindow,
  layoutLane,
  lanesExtent,
  MIN_SEGMENT_PX,
  transitionMarkerKind,
} from './lanes';
import type { DeviceLane, Segment, Transition, TransitionKind } from './types';

const T = (s: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, s)).toISOString();

function seg(distinct_id: string, identified: boolean, a: number, b: number, person = `p-${distinct_id}`): Segment {
  return {
    distinct_id,
    person_id: person,
    current_person_id: person,
    current_person_label: distinct_id,
    identified,
    first_seq: a,
    last_seq: b,
    first_timestamp: T(a),
    last_timestamp: T(b),
    event_count: b - a + 1,
  };
}

function tr(kind: TransitionKind, at: number, from: string, to: string, inferred = false): Transition {
  return {
    kind,
    seq: at,
    event_uuid: `ev-${at}`,
    timestamp: T(at),
    from,
    to,
    inferred,
    explanation: `${kind} at ${at}`,
  };
}

// identify → reset → identify, then a switch without reset (seconds == seqs for easy checking)
const lane: DeviceLane = {
  id: 'phc/dev-1',
  project: 'phc',
  device_id: 'dev-1',
  key_kind: 'device_id',
  family: 'posthog',
  source: 'posthog',
  first_seen: T(0),
  last_seen: T(100),
  first_seq: 0,
  last_seq: 100,
  event_count: 10,
  user_agent: null,
  segments: [
    seg('anon-1', false, 0, 10),
    seg('alice', true, 10, 40),
    seg('anon-2', false, 41, 60),
    seg('bob', true, 60, 80),
    seg('carol', true, 90, 100),
  ],
  transitions: [
    tr('identify', 10, 'anon-1', 'alice'),
    tr('reset', 41, 'alice', 'anon-2', true),
    tr('identify', 60, 'anon-2', 'bob'),
    tr('set', 70, 'bob', 'bob'),
    tr('switch_without_reset', 90, 'bob', 'carol'),
  ],
  sessions: [
    { session_id: 's1', first_seq: 0, last_seq: 50, first_timestamp: T(0), last_timestamp: T(50), event_count: 5 },
  ],
  lib: null,
  linked_from: null,
  cookieless: null,
};

describe('transitionMarkerKind', () => {
  it('maps engine transitions to the contract kinds', () => {
    expect(transitionMarkerKind('reset_device')).toBe('reset');
    expect(transitionMarkerKind('identify')).toBe('identify');
    expect(transitionMarkerKind('switch_without_reset')).toBeNull();
  });
});

describe('layoutLane', () => {
  it('places segments and markers on the time axis', () => {
    const start = Date.parse(T(0));
    const l = layoutLane(lane, 'time', { start, end: start + 100_000 }, 1000);
    expect(l.segments.map((s) => [s.segment.distinct_id, Math.round(s.x), Math.round(s.width)])).toEqual([
      ['anon-1', 0, 100],
      ['alice', 100, 300],
      ['anon-2', 410, 190],
      ['bob', 600, 200],
      ['carol', 900, 100],
    ]);
    expect(l.markers.map((m) => [m.kind, Math.round(m.x)])).toEqual([
      ['session', 0],
      ['identify', 100],
      ['reset', 410],
      ['identify', 600],
      ['set', 700],
    ]);
    expect(l.markers.find((m) => m.kind === 'reset')?.inferred).toBe(true);
    expect(l.switches.map((s) => [s.transition.from, s.transition.to, Math.round(s.x)])).toEqual([
      ['bob', 'carol', 900],
    ]);
  });

  it('uses seq numbers in arrival order', () => {
    const late = {
      ...lane,
      segments: [{ ...seg('x', false, 0, 0), first_seq: 50, last_seq: 50 }],
      transitions: [],
      sessions: [],
    };
    const l = layoutLane(late, 'arrival', { start: 0, end: 100 }, 200);
    // one event: widened to the minimum width around its position
    expect(l.segments[0].x).toBe(100 - MIN_SEGMENT_PX / 2);
    expect(l.segments[0].width).toBe(MIN_SEGMENT_PX);
  });

  it('leaves out what is outside the visible window', () => {
    const start = Date.parse(T(0));
    const l = layoutLane(lane, 'time', { start: start + 45_000, end: start + 65_000 }, 1000);
    expect(l.segments.map((s) => s.segment.distinct_id)).toEqual(['anon-2', 'bob']);
    expect(l.markers.map((m) => m.kind)).toEqual(['identify']);
    expect(l.switches).toEqual([]);
  });
});

describe('overlapping glyphs', () => {
  it('nudges glyph heads that would overlap, keeping each stem at its time', () => {
    const busy = {
      ...lane,
      transitions: [
        tr('identify', 10, 'a', 'b'),
        tr('reset', 10, 'b', 'c', true),
        tr('alias', 11, 'c', 'd'),
        tr('identify', 80, 'c', 'e'),
      ],
      sessions: [],
    };
    const start = Date.parse(T(0));
    const l = layoutLane(busy, 'time', { start, end: start + 100_000 }, 1000);
    expect(l.markers.map((m) => [m.kind, Math.round(m.x), Math.round(m.dx)])).toEqual([
      ['reset', 100, 0],
      ['identify', 100, 13],
      ['alias', 110, 16],
      ['identify', 800, 0],
    ]);
  });
});

describe('lanesExtent', () => {
  it('spans every lane', () => {
    const other = { ...lane, first_seq: -5, last_seq: 20 };
    expect(lanesExtent([lane, other], 'arrival')).toEqual([-5, 100]);
    expect(lanesExtent([], 'time')).toBeNull();
  });
});

describe('laneTitle', () => {
  it('names the device from the user agent and the users in order', () => {
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
    const t = laneTitle({ ...lane, user_agent: ua });
    expect(t.device).toBe('Chrome 126 · Linux');
    expect(`${t.device} — ${t.users}`).toBe('Chrome 126 · Linux — alice → bob → carol');
  });

  it('uses the server person label when present, once per run, and elides long runs', () => {
    const labelled = {
      ...lane,
      segments: [
        { ...seg('legacy-4711', true, 0, 1), current_person_label: 'user-d' },
        { ...seg('user-d', true, 2, 3), current_person_label: 'user-d' },
      ],
    };
    expect(laneTitle(labelled).users).toBe('user-d');
    const many = { ...lane, segments: ['a', 'b', 'c', 'd'].map((id, i) => seg(id, true, i, i)) };
    expect(laneTitle(many).users).toBe('a → … → d');
  });

  it('says anonymous and falls back to the SDK or the key kind', () => {
    const anon = { ...lane, segments: [seg('anon-1', false, 0, 1)] };
    expect(laneTitle(anon)).toEqual({ device: 'Unknown device', users: 'anonymous' });
    expect(laneTitle({ ...anon, lib: 'posthog-node' }).device).toBe('posthog-node');
    expect(laneTitle({ ...anon, key_kind: 'anonymous_id' }).device).toBe('Anonymous-id chain');
  });
});

describe('isChainLane / eventCount', () => {
  it('groups anonymous-id lanes without a user agent as chains', () => {
    expect(isChainLane({ ...lane, key_kind: 'anonymous_id', user_agent: null })).toBe(true);
    expect(isChainLane({ ...lane, key_kind: 'anonymous_id', user_agent: 'Safari' })).toBe(false);
    expect(isChainLane(lane)).toBe(false);
  });
  it('says 1 event, not 1 events', () => {
    expect(eventCount(1)).toBe('1 event');
    expect(eventCount(2)).toBe('2 events');
    expect(eventCount(1200)).toBe('1,200 events');
  });
});

describe('layoutLane on a broken axis', () => {
  it('puts a segment after a collapsed gap right after the break', () => {
    const start = Date.parse(T(0));
    const d = { start, end: start + 100_000 };
    const gaps = [{ start: start + 45_000, end: start + 55_000 }];
    const broken = layoutLane(lane, 'time', d, 1000, 16, gaps);
    const flat = layoutLane(lane, 'time', d, 1000);
    const bob = (l: typeof flat) => l.segments.find((s) => s.segment.distinct_id === 'bob')!;
    // The 10 s gap takes BREAK_PX instead of 100 px; the 90 s left fill the other 972 px.
    expect(bob(flat).x).toBeCloseTo(600);
    expect(bob(broken).x).toBeCloseTo(50_000 * (972 / 90_000) + 28);
    expect(broken.segments[0].x).toBeCloseTo(0);
  });
});

describe('busyIntervals', () => {
  it('lists the known moments, not whole segment spans', () => {
    const long = { ...lane, segments: [seg('mp-user', true, 0, 100)], transitions: [], sessions: [] };
    const busy = busyIntervals([long]);
    expect(busy).toEqual([
      [Date.parse(T(0)), Date.parse(T(0))],
      [Date.parse(T(100)), Date.parse(T(100))],
    ]);
  });
});

describe('laneWindow', () => {
  it('fills the axis with the lane plus some air', () => {
    const w = laneWindow(lane, 'arrival', 4);
    expect(w.start).toBeLessThan(0);
    expect(w.end).toBeGreaterThan(100);
    expect(w.end - w.start).toBeCloseTo(110);
  });
});
