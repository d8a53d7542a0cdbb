// A scale from a domain (unix ms in client-time mode, arrival seq in arrival mode) to pixels,
// linear or broken at idle gaps, with the zoom and pan math of the devices view and "nice" axis
// ticks.

import { formatCount } from './format';

export interface Domain {
  start: number;
  end: number;
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export function span(d: Domain): number {
  return d.end - d.start;
}

/**
 * An idle stretch of the axis drawn as a fixed narrow break (`BREAK_PX`) instead of at scale: a
 * broken axis, so one lane minutes after the others does not squeeze them into slivers.
 */
export interface Gap {
  start: number;
  end: number;
}

/** Width of one collapsed gap on screen. */
export const BREAK_PX = 28;

/**
 * Pixel position of `value` on a `width`-pixel axis showing `domain`, with `gaps` (sorted,
 * disjoint) each drawn `BREAK_PX` wide; a value inside a gap is placed proportionally within its
 * break.
 */
export function toX(domain: Domain, width: number, value: number, gaps: Gap[] = []): number {
  if (gaps.length === 0) {
    const s = span(domain);
    return s <= 0 ? 0 : ((value - domain.start) / s) * width;
  }
  const shown = gaps
    .map((g) => ({ start: Math.max(g.start, domain.start), end: Math.min(g.end, domain.end) }))
    .filter((g) => g.end > g.start);
  const hidden = shown.reduce((sum, g) => sum + (g.end - g.start), 0);
  const live = span(domain) - hidden;
  const scaled = Math.max(0, width - shown.length * BREAK_PX);
  if (live <= 0 || scaled <= 0) return toX(domain, width, value);
  const k = scaled / live;
  let x = 0;
  let at = domain.start;
  for (const g of shown) {
    if (value <= g.start) break;
    x += (g.start - at) * k;
    if (value < g.end) return x + ((value - g.start) / (g.end - g.start)) * BREAK_PX;
    x += BREAK_PX;
    at = g.end;
  }
  return x + (value - at) * k;
}

/**
 * The idle gaps of a set of busy intervals (unix ms) worth collapsing: stretches no interval
 * covers, longer than `minGap`, taken largest first while each is longer than `fraction` of the
 * axis left once the larger ones are collapsed. So no idle stretch keeps more than `fraction` of
 * the drawn axis, however many scales the traffic spans (days between two tests, minutes
 * between two sessions). Sorted by time and disjoint.
 */
export function idleGaps(intervals: [number, number][], minGap: number, fraction = 0.08): Gap[] {
  const sorted = intervals.filter(([a, b]) => Number.isFinite(a) && b >= a).sort((x, y) => x[0] - y[0]);
  if (sorted.length < 2) return [];
  const holes: Gap[] = [];
  let reach = sorted[0][1];
  for (const [a, b] of sorted.slice(1)) {
    if (a - reach > minGap) holes.push({ start: reach, end: a });
    reach = Math.max(reach, b);
  }
  let live = reach - sorted[0][0];
  const chosen: Gap[] = [];
  for (const h of holes.sort((x, y) => y.end - y.start - (x.end - x.start))) {
    const length = h.end - h.start;
    if (length <= fraction * live) break;
    chosen.push(h);
    live -= length;
  }
  // Some air on both sides of a break, so the events next to it stay off its edge.
  return chosen
    .map((h) => {
      const air = Math.min((h.end - h.start) / 8, Math.max(minGap / 2, live * 0.02));
      return { start: h.start + air, end: h.end - air };
    })
    .sort((x, y) => x.start - y.start);
}

/** The span that is drawn at scale once `gaps` are collapsed. */
export function liveSpan(min: number, max: number, gaps: Gap[]): number {
  return max - min - gaps.reduce((sum, g) => sum + Math.max(0, Math.min(g.end, max) - Math.max(g.start, min)), 0);
}

/** A collapsed gap on screen: its left edge, width and duration label. */
export interface AxisBreak {
  x: number;
  width: number;
  label: string;
}

/** Short duration for a break's label: "45 s", "4 min", "2 h 5 min", "3 d". */
export function formatGap(ms: number): string {
  if (ms < MINUTE) return `${Math.round(ms / SECOND)} s`;
  if (ms < HOUR) return `${Math.round(ms / MINUTE)} min`;
  if (ms < DAY) {
    const h = Math.floor(ms / HOUR);
    const m = Math.round((ms - h * HOUR) / MINUTE);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  return `${Math.round(ms / DAY)} d`;
}

/** The stretches of `domain` outside `gaps`: where ticks go on a broken axis. */
export function visiblePieces(domain: Domain, gaps: Gap[]): Domain[] {
  const pieces: Domain[] = [];
  let at = domain.start;
  for (const g of gaps) {
    if (g.end <= domain.start || g.start >= domain.end) continue;
    if (g.start > at) pieces.push({ start: at, end: g.start });
    at = Math.max(at, g.end);
  }
  if (at < domain.end) pieces.push({ start: at, end: domain.end });
  return pieces;
}

/** Domain value at pixel `x`. */
export function fromX(domain: Domain, width: number, x: number): number {
  return width <= 0 ? domain.start : domain.start + (x / width) * span(domain);
}

/**
 * Domain value at pixel `x` on the axis `toX` draws: the inverse of `toX` with the same `gaps`,
 * so a pixel on a break maps to the same proportional place inside its gap.
 */
export function valueAtX(domain: Domain, width: number, x: number, gaps: Gap[] = []): number {
  const shown = gaps
    .map((g) => ({ start: Math.max(g.start, domain.start), end: Math.min(g.end, domain.end) }))
    .filter((g) => g.end > g.start);
  const live = span(domain) - shown.reduce((sum, g) => sum + (g.end - g.start), 0);
  const scaled = Math.max(0, width - shown.length * BREAK_PX);
  if (shown.length === 0 || live <= 0 || scaled <= 0) return fromX(domain, width, x);
  const k = scaled / live;
  let px = 0;
  let at = domain.start;
  for (const g of shown) {
    const pieceEnd = px + (g.start - at) * k;
    if (x <= pieceEnd) return at + (x - px) / k;
    if (x < pieceEnd + BREAK_PX) return g.start + ((x - pieceEnd) / BREAK_PX) * (g.end - g.start);
    px = pieceEnd + BREAK_PX;
    at = g.end;
  }
  return at + (x - px) / k;
}

/** `value` with the time of every gap before it taken out: a position on the axis drawn at scale. */
function toLive(value: number, gaps: Gap[]): number {
  return value - gaps.reduce((sum, g) => sum + Math.max(0, Math.min(g.end, value) - g.start), 0);
}

/**
 * The inverse of `toLive`. A live position where a gap collapses to a point is either side of
 * it: `'after'` (the gap's end, for a window's start) or `'before'` (its start, for a window's
 * end), so a window never begins or ends with a sliver of gap drawn as a whole break.
 */
function fromLive(live: number, gaps: Gap[], side: 'before' | 'after'): number {
  let value = live;
  for (const g of gaps) {
    if (g.start < value || (side === 'after' && g.start === value)) value += g.end - g.start;
    else break;
  }
  return value;
}

/**
 * Zooms by `factor` (< 1 zooms in) keeping the value under pixel `x` at `x`, on the axis `toX`
 * draws with `gaps` collapsed. The factor applies to the span drawn at scale (without the gaps),
 * so each wheel step magnifies what is on screen by the same ratio however long the gaps are.
 * The window stays inside `bounds` (then the anchor gives way) and no narrower than `minSpan`.
 */
export function zoomAtX(
  d: Domain,
  width: number,
  x: number,
  factor: number,
  bounds: Domain,
  minSpan: number,
  gaps: Gap[] = [],
): Domain {
  const inWindow = gaps.filter((g) => g.end > bounds.start && g.start < bounds.end);
  if (inWindow.length === 0 || width <= 0)
    return zoomAt(d, factor, Math.min(1, Math.max(0, x / width)), bounds, minSpan);
  const pivot = valueAtX(d, width, x, inWindow);
  const [lo, hi] = [toLive(bounds.start, inWindow), toLive(bounds.end, inWindow)];
  const next = Math.min(hi - lo, Math.max(minSpan, (toLive(d.end, inWindow) - toLive(d.start, inWindow)) * factor));
  const windowAt = (start: number): Domain => ({
    start: fromLive(start, inWindow, 'after'),
    end: fromLive(start + next, inWindow, 'before'),
  });
  // Where the pivot lands moves left (never right) as the window's live start moves right: a
  // bisection finds the start that puts it under the pointer.
  const p = toLive(pivot, inWindow);
  let [a, b] = [p - next, p];
  for (let i = 0; i < 60 && b - a > 1e-6; i++) {
    const mid = (a + b) / 2;
    if (toX(windowAt(mid), width, pivot, inWindow) > x) a = mid;
    else b = mid;
  }
  return windowAt(Math.min(hi - next, Math.max(lo, (a + b) / 2)));
}

/** A domain around [min, max] with some air on both sides; never empty. */
export function padDomain(min: number, max: number, minSpan: number, pad = 0.03): Domain {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { start: 0, end: minSpan };
  let s = max - min;
  if (s < minSpan) {
    const mid = (min + max) / 2;
    return { start: mid - minSpan / 2, end: mid + minSpan / 2 };
  }
  const air = s * pad;
  s += 2 * air;
  return { start: min - air, end: min - air + s };
}

/**
 * Zooms by `factor` (< 1 zooms in) keeping the value under `anchor` (a fraction of the width,
 * 0..1) where it is, then keeps the result inside `bounds` and no narrower than `minSpan`.
 */
export function zoomAt(d: Domain, factor: number, anchor: number, bounds: Domain, minSpan: number): Domain {
  const maxSpan = span(bounds);
  const next = Math.min(maxSpan, Math.max(minSpan, span(d) * factor));
  const pivot = d.start + anchor * span(d);
  return clampDomain({ start: pivot - anchor * next, end: pivot - anchor * next + next }, bounds);
}

/** Moves the window by `fraction` of its width (positive: later), staying inside `bounds`. */
export function pan(d: Domain, fraction: number, bounds: Domain): Domain {
  const shift = fraction * span(d);
  return clampDomain({ start: d.start + shift, end: d.end + shift }, bounds);
}

/**
 * Moves the window by `px` pixels of the axis `toX` draws with `gaps` collapsed (positive:
 * later), so what is drawn at scale follows the pointer or the wheel at its own speed: a raw
 * time shift would cross a collapsed gap of days in one step. The window keeps its span drawn at
 * scale and stays inside `bounds`; a window never starts or ends inside a gap.
 */
export function panByPx(d: Domain, width: number, px: number, bounds: Domain, gaps: Gap[] = []): Domain {
  const inWindow = gaps.filter((g) => g.end > bounds.start && g.start < bounds.end);
  if (inWindow.length === 0 || width <= 0) return pan(d, width > 0 ? px / width : 0, bounds);
  const shown = inWindow.filter((g) => Math.min(g.end, d.end) > Math.max(g.start, d.start)).length;
  const [start, end] = [toLive(d.start, inWindow), toLive(d.end, inWindow)];
  const live = end - start;
  const scaled = Math.max(1, width - shown * BREAK_PX);
  const [lo, hi] = [toLive(bounds.start, inWindow), toLive(bounds.end, inWindow)];
  const next = Math.min(hi - live, Math.max(lo, start + (px * live) / scaled));
  return { start: fromLive(next, inWindow, 'after'), end: fromLive(next + live, inWindow, 'before') };
}

/** Slides `d` (keeping its span) so it lies inside `bounds`; a wider `d` becomes `bounds`. */
export function clampDomain(d: Domain, bounds: Domain): Domain {
  const s = span(d);
  if (s >= span(bounds)) return { ...bounds };
  if (d.start < bounds.start) return { start: bounds.start, end: bounds.start + s };
  if (d.end > bounds.end) return { start: bounds.end - s, end: bounds.end };
  return d;
}

const TIME_STEPS = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  91 * DAY,
  365 * DAY,
];

export interface Tick {
  value: number;
  label: string;
}

/** The smallest step from `steps` giving at most `maxTicks` ticks over `s`. */
function pickStep(s: number, maxTicks: number, steps: number[]): number {
  const want = s / Math.max(1, maxTicks);
  return steps.find((step) => step >= want) ?? steps[steps.length - 1];
}

/**
 * Ticks for a time domain (unix ms): round local-time values (whole seconds, minutes, hours,
 * local midnights), at most `maxTicks`. `tzOffsetMin` is `Date#getTimezoneOffset()` (injectable
 * for tests).
 */
export function timeTicks(d: Domain, maxTicks: number, tzOffsetMin = new Date(d.start).getTimezoneOffset()): Tick[] {
  const s = span(d);
  if (s <= 0) return [];
  const step = pickStep(s, maxTicks, TIME_STEPS);
  const shift = -tzOffsetMin * MINUTE; // local = utc + shift
  const first = Math.ceil((d.start + shift) / step) * step - shift;
  const ticks: Tick[] = [];
  for (let v = first; v <= d.end && ticks.length <= maxTicks; v += step) {
    ticks.push({ value: v, label: timeLabel(v, step, shift) });
  }
  return ticks;
}

function pad2(n: number) {
  return String(n).padStart(2, '0');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A tick label as precise as the step needs, in local time (`shift` = local - utc, ms). */
export function timeLabel(value: number, step: number, shift: number): string {
  const t = new Date(value + shift);
  const hm = `${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}`;
  if (step >= DAY) return `${MONTHS[t.getUTCMonth()]} ${t.getUTCDate()}`;
  if (step >= MINUTE) return hm === '00:00' ? `${MONTHS[t.getUTCMonth()]} ${t.getUTCDate()}` : hm;
  if (step >= SECOND) return `${hm}:${pad2(t.getUTCSeconds())}`;
  // Sub-second steps keep the minutes: "46.000" alone said nothing of when.
  return `${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())}.${String(t.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** Ticks for the arrival-order axis: whole sequence numbers at 1, 2, 5 × 10^k. */
export function seqTicks(d: Domain, maxTicks: number): Tick[] {
  const s = span(d);
  if (s <= 0) return [];
  const steps: number[] = [];
  for (let p = 1; p <= 1e12; p *= 10) steps.push(p, 2 * p, 5 * p);
  const step = pickStep(s, maxTicks, steps);
  const ticks: Tick[] = [];
  // Arrival numbers start at 1: a padded domain reaching below it gets no "#0" or "#-0" tick.
  const first = Math.max(step, Math.ceil(d.start / step) * step);
  for (let v = first; v <= d.end && ticks.length <= maxTicks; v += step) {
    ticks.push({ value: v, label: `#${formatCount(v)}` });
  }
  return ticks;
}
