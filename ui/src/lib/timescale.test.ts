import { describe, expect, it } from 'vitest';
import {
  BREAK_PX,
  clampDomain,
  formatGap,
  idleGaps,
  liveSpan,
  visiblePieces,
  fromX,
  HOUR,
  MINUTE,
  padDomain,
  pan,
  panByPx,
  seqTicks,
  SECOND,
  timeTicks,
  toX,
  valueAtX,
  zoomAt,
  zoomAtX,
} from './timescale';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0); // 2026-11-24T12:00:00Z

describe('toX / fromX', () => {
  it('maps the domain linearly onto the width and back', () => {
    const d = { start: 100, end: 300 };
    expect(toX(d, 1000, 100)).toBe(0);
    expect(toX(d, 1000, 200)).toBe(500);
    expect(toX(d, 1000, 300)).toBe(1000);
    expect(toX(d, 1000, 50)).toBe(-250);
    expect(fromX(d, 1000, 250)).toBe(150);
  });

  it('does not divide by zero on an empty domain', () => {
    expect(toX({ start: 5, end: 5 }, 800, 5)).toBe(0);
    expect(fromX({ start: 5, end: 10 }, 0, 3)).toBe(5);
  });
});

describe('padDomain', () => {
  it('centres a too-narrow range on its middle with the minimum span', () => {
    expect(padDomain(1000, 1000, 60_000)).toEqual({ start: -29_000, end: 31_000 });
  });
  it('adds air on both sides of a wide range', () => {
    expect(padDomain(0, 1000, 10)).toEqual({ start: -30, end: 1030 });
  });
});

describe('zoomAt', () => {
  const bounds = { start: 0, end: 1000 };
  it('keeps the value under the cursor in place', () => {
    const d = zoomAt({ start: 0, end: 1000 }, 0.5, 0.25, bounds, 1);
    expect(d).toEqual({ start: 125, end: 625 });
    // 250 was at a quarter of the width before and still is
    expect(fromX(d, 400, 100)).toBe(250);
  });
  it('stops at the minimum span and at the bounds', () => {
    expect(zoomAt({ start: 400, end: 600 }, 0.001, 0.5, bounds, 50)).toEqual({ start: 475, end: 525 });
    expect(zoomAt({ start: 0, end: 500 }, 10, 0.5, bounds, 1)).toEqual({ start: 0, end: 1000 });
  });
});

describe('pan / clampDomain', () => {
  const bounds = { start: 0, end: 1000 };
  it('moves by a fraction of the visible span', () => {
    expect(pan({ start: 100, end: 300 }, 0.5, bounds)).toEqual({ start: 200, end: 400 });
    expect(pan({ start: 100, end: 300 }, -0.25, bounds)).toEqual({ start: 50, end: 250 });
  });
  it('never leaves the bounds', () => {
    expect(pan({ start: 800, end: 950 }, 1, bounds)).toEqual({ start: 850, end: 1000 });
    expect(clampDomain({ start: -50, end: 50 }, bounds)).toEqual({ start: 0, end: 100 });
    expect(clampDomain({ start: -50, end: 5000 }, bounds)).toEqual(bounds);
  });
});

describe('panByPx (drag and wheel on a broken axis)', () => {
  // 0..1000 with 100..900 collapsed; the window 0..950 shows 150 units at scale on 972 px.
  const bounds = { start: 0, end: 1000 };
  const gaps = [{ start: 100, end: 900 }];
  const W = 1000;
  const d = { start: 0, end: 950 };

  it('keeps what is under the pointer under it as it drags, across the collapsed gap', () => {
    const x = toX(d, W, 920, gaps); // right of the break
    const next = panByPx(d, W, 30, bounds, gaps); // drag 30 px to the left: later
    expect(toX(next, W, 920, gaps)).toBeCloseTo(x - 30, 6);
    // The span at scale is kept; a raw time shift of 3% of 950 would have moved 28.5 units at
    // once, and the linear pan leaves 920 elsewhere.
    expect(liveSpan(next.start, next.end, gaps)).toBeCloseTo(liveSpan(d.start, d.end, gaps), 6);
    expect(Math.abs(toX(pan(d, 30 / W, bounds), W, 920, gaps) - (x - 30))).toBeGreaterThan(5);
  });

  it('stops at the bounds, and is the linear pan without gaps', () => {
    expect(panByPx(d, W, 10_000, bounds, gaps)).toEqual({ start: expect.closeTo(50, 6), end: 1000 });
    expect(panByPx(d, W, -10_000, bounds, gaps)).toEqual({ start: 0, end: expect.closeTo(950, 6) });
    expect(panByPx({ start: 100, end: 300 }, 1000, 500, bounds)).toEqual(pan({ start: 100, end: 300 }, 0.5, bounds));
  });
});

describe('timeTicks', () => {
  it('picks round minutes for a 10-minute window, in local time', () => {
    const ticks = timeTicks({ start: T0 + 20 * SECOND, end: T0 + 10 * MINUTE }, 6, 0);
    expect(ticks.map((t) => t.label)).toEqual(['12:02', '12:04', '12:06', '12:08', '12:10']);
    expect(ticks[0].value).toBe(T0 + 2 * MINUTE);
  });

  it('follows the time zone offset (UTC+2 shows 14:00 for 12:00Z)', () => {
    const ticks = timeTicks({ start: T0 - 1, end: T0 + 3 * HOUR }, 4, -120);
    expect(ticks.map((t) => t.label)).toEqual(['14:00', '15:00', '16:00', '17:00']);
  });

  it('shows seconds for short spans and dates at midnight', () => {
    expect(timeTicks({ start: T0, end: T0 + 4 * SECOND }, 4, 0).map((t) => t.label)).toEqual([
      '12:00:00',
      '12:00:01',
      '12:00:02',
      '12:00:03',
      '12:00:04',
    ]);
    const midnight = Date.UTC(2026, 10, 25);
    const around = timeTicks({ start: midnight - 2 * HOUR, end: midnight + 2 * HOUR }, 4, 0);
    expect(around.map((t) => t.label)).toContain('Nov 25');
  });

  it('never returns more than maxTicks + 1', () => {
    expect(timeTicks({ start: T0, end: T0 + 400 * 24 * HOUR }, 8, 0).length).toBeLessThanOrEqual(9);
  });
});

describe('seqTicks', () => {
  it('uses 1-2-5 steps', () => {
    expect(seqTicks({ start: 3, end: 47 }, 5).map((t) => t.value)).toEqual([10, 20, 30, 40]);
    // Arrival numbers start at 1, so no '#0' tick.
    expect(seqTicks({ start: 0, end: 1_000_000 }, 4).map((t) => t.label)).toEqual(['#500,000', '#1,000,000']);
  });

  it('never labels a padded domain below 1 as #-0', () => {
    const labels = seqTicks({ start: -0.6, end: 12 }, 6).map((t) => t.label);
    expect(labels).toEqual(['#5', '#10']);
    expect(labels.some((l) => l.includes('-'))).toBe(false);
  });
});

describe('sub-second time labels', () => {
  it('keep the minutes', () => {
    const labels = timeTicks({ start: T0 + 46 * SECOND, end: T0 + 46 * SECOND + 500 }, 5, 0).map((t) => t.label);
    expect(labels[0]).toBe('00:46.000');
  });
});

describe('broken axis', () => {
  const d = { start: 0, end: 1000 };
  it('draws each gap BREAK_PX wide and the rest at one scale', () => {
    const gaps = [{ start: 100, end: 900 }];
    // 200 units live on 1000 - 28 px.
    const k = (1000 - BREAK_PX) / 200;
    expect(toX(d, 1000, 50, gaps)).toBeCloseTo(50 * k);
    expect(toX(d, 1000, 100, gaps)).toBeCloseTo(100 * k);
    expect(toX(d, 1000, 500, gaps)).toBeCloseTo(100 * k + BREAK_PX / 2);
    expect(toX(d, 1000, 900, gaps)).toBeCloseTo(100 * k + BREAK_PX);
    expect(toX(d, 1000, 1000, gaps)).toBeCloseTo(1000);
  });

  it('ignores gaps outside the domain and is linear without gaps', () => {
    expect(toX(d, 1000, 500, [{ start: 2000, end: 3000 }])).toBeCloseTo(500);
    expect(toX(d, 1000, 500)).toBe(500);
  });

  it('finds only the idle gaps that would dominate the axis', () => {
    // Two busy minutes, then one lane 4 minutes later: the 4-minute gap is collapsed.
    const busy: [number, number][] = [
      [T0, T0 + MINUTE],
      [T0 + 30 * SECOND, T0 + 2 * MINUTE],
      [T0 + 6 * MINUTE, T0 + 6 * MINUTE + 5 * SECOND],
    ];
    const gaps = idleGaps(busy, 30 * SECOND);
    expect(gaps).toHaveLength(1);
    expect(gaps[0].start).toBeGreaterThan(T0 + 2 * MINUTE);
    expect(gaps[0].end).toBeLessThan(T0 + 6 * MINUTE);
    expect(formatGap(gaps[0].end - gaps[0].start)).toMatch(/^[34] min$/);
    // Short pauses stay at scale.
    expect(
      idleGaps(
        [
          [T0, T0 + 10 * SECOND],
          [T0 + 20 * SECOND, T0 + 30 * SECOND],
        ],
        30 * SECOND,
      ),
    ).toEqual([]);
  });

  it('collapses gaps of every scale, largest first, until none dominates what is left', () => {
    // Two minutes of traffic, 9 days of nothing, a minute, 3 hours of nothing, a minute.
    const DAY_MS = 24 * HOUR;
    const busy: [number, number][] = [
      [T0, T0 + 2 * MINUTE],
      [T0 + 9 * DAY_MS, T0 + 9 * DAY_MS + MINUTE],
      [T0 + 9 * DAY_MS + 3 * HOUR, T0 + 9 * DAY_MS + 3 * HOUR + MINUTE],
    ];
    const gaps = idleGaps(busy, 30 * SECOND);
    expect(gaps).toHaveLength(2);
    expect(formatGap(gaps[0].end - gaps[0].start)).toBe('9 d');
    const live = liveSpan(T0, T0 + 9 * DAY_MS + 3 * HOUR + MINUTE, gaps);
    expect(live).toBeLessThan(10 * MINUTE);
  });

  it('lists the visible pieces between gaps', () => {
    expect(visiblePieces(d, [{ start: 100, end: 900 }])).toEqual([
      { start: 0, end: 100 },
      { start: 900, end: 1000 },
    ]);
    expect(formatGap(2 * HOUR + 5 * MINUTE)).toBe('2 h 5 min');
  });
});

describe('zoom on a broken axis', () => {
  // 0..1000 on 1000 px with 100..900 collapsed: 200 units at scale on 972 px, the break at 486..514.
  const bounds = { start: 0, end: 1000 };
  const gaps = [{ start: 100, end: 900 }];
  const W = 1000;

  it('maps a pixel back to its value, on a segment and on a break', () => {
    for (const v of [0, 50, 100, 300, 500, 899, 900, 950, 1000]) {
      expect(valueAtX(bounds, W, toX(bounds, W, v, gaps), gaps)).toBeCloseTo(v, 6);
    }
    expect(valueAtX(bounds, W, 500, gaps)).toBeCloseTo(500, 6); // the middle of the break
    expect(valueAtX(bounds, W, 250)).toBe(250); // no gaps: linear
  });

  it('keeps the instant under the pointer on a segment, and magnifies what is drawn', () => {
    const x = toX(bounds, W, 50, gaps);
    const next = zoomAtX(bounds, W, x, 0.5, bounds, 1, gaps);
    expect(toX(next, W, 50, gaps)).toBeCloseTo(x, 3);
    expect(valueAtX(next, W, x, gaps)).toBeCloseTo(50, 3);
    // Half the span at scale (200 → 100), not half the raw span with the gap in it.
    expect(liveSpan(next.start, next.end, gaps)).toBeCloseTo(100, 3);
    expect(next).toEqual({ start: expect.closeTo(25, 3), end: expect.closeTo(925, 3) });
    // The linear anchor (a fraction of the width) puts another instant under the pointer.
    const linear = zoomAt(bounds, 0.5, x / W, bounds, 1);
    expect(Math.abs(toX(linear, W, 50, gaps) - x)).toBeGreaterThan(50);
  });

  it('keeps the place under the pointer on a collapsed gap marker', () => {
    const x = toX(bounds, W, 500, gaps);
    expect(x).toBeCloseTo(500, 6);
    const next = zoomAtX(bounds, W, x, 0.5, bounds, 1, gaps);
    expect(valueAtX(next, W, x, gaps)).toBeCloseTo(500, 3);
    expect(next).toEqual({ start: expect.closeTo(50, 3), end: expect.closeTo(950, 3) });
  });

  it('zooms past the gap into one segment, then back out to the bounds', () => {
    const x = toX(bounds, W, 960, gaps);
    const inner = zoomAtX(bounds, W, x, 0.1, bounds, 1, gaps);
    expect(inner.start).toBeGreaterThanOrEqual(900); // the gap left the window
    expect(inner.end - inner.start).toBeCloseTo(20, 3);
    expect(toX(inner, W, 960, gaps)).toBeCloseTo(x, 3);
    expect(zoomAtX(inner, W, 300, 1000, bounds, 1, gaps)).toEqual(bounds);
  });

  it('gives way at the bounds and falls back to the linear zoom without gaps', () => {
    const atEdge = zoomAtX(bounds, W, 0, 0.5, bounds, 1, gaps);
    expect(atEdge.start).toBe(0);
    expect(zoomAtX(bounds, W, 250, 0.5, bounds, 1)).toEqual(zoomAt(bounds, 0.5, 0.25, bounds, 1));
  });
});
