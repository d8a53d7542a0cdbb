// Device lane layout: where each segment, marker and switch of one lane goes on the shared axis,
// in client time (corrected timestamps) or arrival order (seq).

import { describeUserAgent, formatCount } from './format';
import { toX as scaleX, type Domain, type Gap } from './timescale';
import type { DeviceLane, Segment, SessionSpan, Transition } from './types';

export type Axis = 'time' | 'arrival';

/** The marker kinds of the UI contract (`data-kind`). */
export type MarkerKind = 'identify' | 'alias' | 'reset' | 'set' | 'session';

export interface SegmentBox {
  index: number;
  x: number;
  width: number;
  segment: Segment;
}

export interface Marker {
  kind: MarkerKind;
  x: number;
  /** What the marker stands for: a transition, or the session that started there. */
  transition?: Transition;
  session?: SessionSpan;
  inferred: boolean;
  eventUuid: string | null;
  /** Horizontal offset of the glyph from `x`, so glyphs at (almost) the same place stay visible. */
  dx: number;
}

/** A switch from one identified user to another without reset: drawn as an error. */
export interface SwitchMark {
  x: number;
  transition: Transition;
  /** Glyph offset when a marker sits at the same place. */
  dx: number;
}

export interface LaneLayout {
  segments: SegmentBox[];
  markers: Marker[];
  switches: SwitchMark[];
}

/** Narrowest a segment is drawn, so a one-event segment stays visible and clickable. */
export const MIN_SEGMENT_PX = 6;

/** Glyphs drawn above the lane (identify, alias, reset) need this much room each. */
export const GLYPH_PX = 13;
const HEAD_KINDS = new Set<MarkerKind>(['identify', 'alias', 'reset']);

export function transitionMarkerKind(kind: string): MarkerKind | null {
  switch (kind) {
    case 'identify':
      return 'identify';
    case 'alias':
      return 'alias';
    case 'reset':
    case 'reset_device':
      return 'reset';
    case 'set':
      return 'set';
    default:
      return null;
  }
}

const ms = (iso: string) => Date.parse(iso);

export function segmentExtent(s: Segment, axis: Axis): [number, number] {
  return axis === 'time' ? [ms(s.first_timestamp), ms(s.last_timestamp)] : [s.first_seq, s.last_seq];
}

export function transitionAt(t: Transition, axis: Axis): number {
  return axis === 'time' ? ms(t.timestamp) : t.seq;
}

export function sessionAt(s: SessionSpan, axis: Axis): number {
  return axis === 'time' ? ms(s.first_timestamp) : s.first_seq;
}

/** The extent of a lane on an axis (for the axis bounds of a page of lanes). */
export function laneExtent(lane: DeviceLane, axis: Axis): [number, number] {
  return axis === 'time' ? [ms(lane.first_seen), ms(lane.last_seen)] : [lane.first_seq, lane.last_seq];
}

/**
 * Lays out one lane on a `width`-pixel axis showing `domain`. Items entirely outside the visible
 * window (plus `margin` px) are left out, so a zoomed-in view draws only what is on screen.
 */
export function layoutLane(
  lane: DeviceLane,
  axis: Axis,
  domain: Domain,
  width: number,
  margin = 16,
  gaps: Gap[] = [],
): LaneLayout {
  const visible = (x1: number, x2: number) => x2 >= -margin && x1 <= width + margin;
  const toX = (d: Domain, w: number, v: number) => scaleX(d, w, v, gaps);
  const segments: SegmentBox[] = [];
  lane.segments.forEach((segment, index) => {
    const [a, b] = segmentExtent(segment, axis);
    let x1 = toX(domain, width, a);
    let x2 = toX(domain, width, b);
    if (x2 - x1 < MIN_SEGMENT_PX) {
      const mid = (x1 + x2) / 2;
      x1 = mid - MIN_SEGMENT_PX / 2;
      x2 = mid + MIN_SEGMENT_PX / 2;
    }
    if (visible(x1, x2)) segments.push({ index, x: x1, width: x2 - x1, segment });
  });

  const markers: Marker[] = [];
  const switches: SwitchMark[] = [];
  for (const t of lane.transitions) {
    const x = toX(domain, width, transitionAt(t, axis));
    if (!visible(x, x)) continue;
    if (t.kind === 'switch_without_reset') {
      switches.push({ x, transition: t, dx: 0 });
      continue;
    }
    const kind = transitionMarkerKind(t.kind);
    if (kind) markers.push({ kind, x, transition: t, inferred: t.inferred, eventUuid: t.event_uuid, dx: 0 });
  }
  for (const s of lane.sessions) {
    const x = toX(domain, width, sessionAt(s, axis));
    if (visible(x, x)) markers.push({ kind: 'session', x, session: s, inferred: false, eventUuid: null, dx: 0 });
  }
  markers.sort((a, b) => a.x - b.x || MARKER_ORDER[a.kind] - MARKER_ORDER[b.kind]);
  // Glyph heads that would overlap are nudged right, each keeping its stem at the true time.
  let lastHead = -Infinity;
  for (const m of markers) {
    if (!HEAD_KINDS.has(m.kind)) continue;
    if (m.x - lastHead < GLYPH_PX) m.dx = lastHead + GLYPH_PX - m.x;
    lastHead = m.x + m.dx;
  }
  for (const sw of switches) {
    if (markers.some((m) => HEAD_KINDS.has(m.kind) && Math.abs(m.x + m.dx - sw.x) < GLYPH_PX)) sw.dx = GLYPH_PX;
  }
  return { segments, markers, switches };
}

const MARKER_ORDER: Record<MarkerKind, number> = { session: 0, set: 1, reset: 2, alias: 3, identify: 4 };

/** The bounds of a set of lanes on an axis: [min, max], or null when there are none. */
export function lanesExtent(lanes: DeviceLane[], axis: Axis): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const lane of lanes) {
    const [a, b] = laneExtent(lane, axis);
    if (a < lo) lo = a;
    if (b > hi) hi = b;
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * The moments lanes are known to be active, on the time axis: each segment's first and last
 * event, each transition and each session's ends (what idle gaps are cut from). Not whole
 * segment spans: a segment with five events over nine days says nothing of the days between,
 * and would keep every gap open; a bar that spans a break is drawn through it.
 */
export function busyIntervals(lanes: Iterable<DeviceLane>): [number, number][] {
  const out: [number, number][] = [];
  const at = (iso: string) => {
    const t = ms(iso);
    out.push([t, t]);
  };
  for (const lane of lanes) {
    for (const s of lane.segments) {
      at(s.first_timestamp);
      at(s.last_timestamp);
    }
    for (const t of lane.transitions) at(t.timestamp);
    for (const s of lane.sessions) {
      at(s.first_timestamp);
      at(s.last_timestamp);
    }
  }
  return out;
}

/**
 * A server-SDK style lane: keyed by an anonymous-id chain and sending no user agent (one per
 * user rather than per device). The server's `chains=` parameter uses the same rule.
 */
export function isChainLane(lane: DeviceLane): boolean {
  return lane.key_kind === 'anonymous_id' && !lane.user_agent;
}

/** The segment field the server fills with its person's display label, read while optional. */
type Labelled = { current_person_label?: string | null };

/**
 * What a person reads as on a lane title: the server's person label when it sends one, else
 * the segment's own distinct id.
 */
function userName(s: Segment): string {
  return (s as Segment & Labelled).current_person_label || s.distinct_id;
}

/** Most users named in a title before the middle ones are elided. */
const TITLE_USERS = 3;

/**
 * A lane's human title: "Chrome 126 · Linux — user-a → user-b". The device (browser and OS from
 * the user agent, else the SDK, else what the key is), then the users it was identified as in
 * order (consecutive repeats once; the middle elided past `TITLE_USERS`), or "anonymous".
 */
export function laneTitle(lane: DeviceLane): { device: string; users: string } {
  const device =
    describeUserAgent(lane.user_agent) ||
    lane.lib ||
    (lane.key_kind === 'anonymous_id' ? 'Anonymous-id chain' : 'Unknown device');
  const names: string[] = [];
  for (const s of lane.segments) {
    if (!s.identified) continue;
    const name = userName(s);
    if (names[names.length - 1] !== name) names.push(name);
  }
  const shown = names.length > TITLE_USERS ? [names[0], '…', names[names.length - 1]] : names;
  return { device, users: shown.length ? shown.join(' → ') : 'anonymous' };
}

/** "1 event", "3 events": the count as a segment's accessible name says it. */
export function eventCount(n: number): string {
  return `${formatCount(n)} ${n === 1 ? 'event' : 'events'}`;
}

/** The time-axis window that shows `lane` whole, with a little air on both sides. */
export function laneWindow(lane: DeviceLane, axis: Axis, minSpan: number): Domain {
  const [a, b] = laneExtent(lane, axis);
  const s = Math.max(b - a, minSpan);
  const mid = (a + b) / 2;
  return { start: mid - s * 0.55, end: mid + s * 0.55 };
}

/** A window of `spanWidth` around one moment (a transition the view opens on). */
export function windowAround(at: number, spanWidth: number): Domain {
  return { start: at - spanWidth / 2, end: at + spanWidth / 2 };
}
