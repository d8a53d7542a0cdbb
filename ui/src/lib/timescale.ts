// A linear scale from a domain (unix ms in client-time mode, arrival seq in arrival mode) to
// pixels, with the zoom and pan math of the devices view and "nice" axis ticks.

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

/** Pixel position of `value` on a `width`-pixel axis showing `domain`. */
export function toX(domain: Domain, width: number, value: number): number {
  const s = span(domain);
  return s <= 0 ? 0 : ((value - domain.start) / s) * width;
}

/** Domain value at pixel `x`. */
export function fromX(domain: Domain, width: number, x: number): number {
  return width <= 0 ? domain.start : domain.start + (x / width) * span(domain);
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
  return `${pad2(t.getUTCSeconds())}.${String(t.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** Ticks for the arrival-order axis: whole sequence numbers at 1, 2, 5 × 10^k. */
export function seqTicks(d: Domain, maxTicks: number): Tick[] {
  const s = span(d);
  if (s <= 0) return [];
  const steps: number[] = [];
  for (let p = 1; p <= 1e12; p *= 10) steps.push(p, 2 * p, 5 * p);
  const step = pickStep(s, maxTicks, steps);
  const ticks: Tick[] = [];
  for (let v = Math.ceil(d.start / step) * step; v <= d.end && ticks.length <= maxTicks; v += step) {
    ticks.push({ value: v, label: `#${v.toLocaleString('en-US')}` });
  }
  return ticks;
}
