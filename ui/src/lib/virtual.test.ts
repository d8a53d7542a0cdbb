import { describe, expect, it } from 'vitest';
import { needsMore, scrollToRow, visibleRows } from './virtual';

describe('visibleRows', () => {
  it('renders only the rows on screen plus the overscan', () => {
    // 100 000 rows of 28 px, 560 px viewport scrolled to row 1000
    const w = visibleRows(28_000, 560, 28, 100_000, 5);
    expect(w).toEqual({ first: 995, last: 1025, offset: 995 * 28, total: 2_800_000 });
    expect(w.last - w.first).toBeLessThan(40);
  });

  it('clamps at the top and the bottom', () => {
    expect(visibleRows(-50, 100, 10, 5, 2)).toEqual({ first: 0, last: 5, offset: 0, total: 50 });
    const end = visibleRows(1e9, 100, 10, 1000, 0);
    expect(end.last).toBe(1000);
    expect(end.first).toBe(990);
  });

  it('is empty for an empty list', () => {
    expect(visibleRows(0, 500, 28, 0)).toEqual({ first: 0, last: 0, offset: 0, total: 0 });
  });
});

describe('scrollToRow', () => {
  it('scrolls just enough to show the row', () => {
    expect(scrollToRow(10, 0, 100, 20)).toBe(120); // row 10 spans 200..220: bottom aligned
    expect(scrollToRow(2, 100, 100, 20)).toBe(40); // above: top aligned
    expect(scrollToRow(6, 100, 100, 20)).toBe(100); // already visible
  });
});

describe('needsMore', () => {
  it('asks for the next page when the window nears the end', () => {
    expect(needsMore(960, 1000, true)).toBe(true);
    expect(needsMore(100, 1000, true)).toBe(false);
    expect(needsMore(999, 1000, false)).toBe(false);
  });
});
