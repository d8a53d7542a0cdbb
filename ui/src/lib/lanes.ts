// Device lane layout: where each segment, marker and switch of one lane goes on the shared axis,
// in client time (corrected timestamps) or arrival order (seq).

import { toX, type Domain } from './timescale';
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
export function layoutLane(lane: DeviceLane, axis: Axis, domain: Domain, width: number, margin = 16): LaneLayout {
  const visible = (x1: number, x2: number) => x2 >= -margin && x1 <= width + margin;
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
