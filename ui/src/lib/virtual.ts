// Windowing math for long lists (events table, device lanes): only the rows on screen (plus a
// few each side) exist in the DOM, so 100 000 rows scroll like 30.

export interface RowWindow {
  /** First row index rendered. */
  first: number;
  /** One past the last row index rendered. */
  last: number;
  /** Pixel offset of row `first` from the top of the list. */
  offset: number;
  /** Full height of the list, so the scrollbar is right. */
  total: number;
}

export function visibleRows(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  count: number,
  overscan = 6,
): RowWindow {
  const total = count * rowHeight;
  if (count === 0 || rowHeight <= 0) return { first: 0, last: 0, offset: 0, total };
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, total - viewport)));
  const first = Math.max(0, Math.floor(top / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((top + Math.max(0, viewport)) / rowHeight) + overscan);
  return { first, last: Math.max(first, last), offset: first * rowHeight, total };
}

/** The scrollTop that brings row `index` into view (or the current one if it already is). */
export function scrollToRow(index: number, scrollTop: number, viewport: number, rowHeight: number): number {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewport) return top + rowHeight - viewport;
  return scrollTop;
}

/** Whether the rows from `first` to `last` need loading: near the end of what is loaded. */
export function needsMore(last: number, loaded: number, hasMore: boolean, threshold = 50): boolean {
  return hasMore && last + threshold >= loaded;
}
