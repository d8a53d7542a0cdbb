// Keyboard navigation in lists: which row a key moves the selection to.

export function nextIndex(current: number, key: string, count: number, pageSize = 10): number | null {
  if (count <= 0) return null;
  const at = current < 0 ? -1 : Math.min(current, count - 1);
  switch (key) {
    case 'ArrowDown':
    case 'j':
      return Math.min(count - 1, at + 1);
    case 'ArrowUp':
    case 'k':
      return at < 0 ? 0 : Math.max(0, at - 1);
    case 'PageDown':
      return Math.min(count - 1, Math.max(0, at) + pageSize);
    case 'PageUp':
      return Math.max(0, at - pageSize);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

/** True when a key event comes from a text field (so list shortcuts must not fire). */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return (
    el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable === true
  );
}

/** What `listKeyAction` needs of a key event (a KeyboardEvent has all of it). */
export interface ListKey {
  key: string;
  target: EventTarget | null;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

/**
 * What a key pressed anywhere in the window does to a list handled on the window (Events,
 * Persons, Devices): `move` (j/k, arrows, paging: see `nextIndex`), `open` (Enter), `close`
 * (Escape) or null when the key belongs to something else:
 * - typing in a field never drives the list (`j` in the event-name filter is a letter);
 * - with Ctrl/Cmd/Alt it is a browser or system shortcut;
 * - Enter (or Escape) on a link, button or menu anywhere but the list is theirs;
 * - arrows and paging keys scroll a focused scroll region (`<pre>`, `[data-own-keys]`) outside
 *   the list; j/k do not scroll anything, so they still move the list.
 */
export function listKeyAction(e: ListKey, list: Node | null): 'move' | 'open' | 'close' | null {
  if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return null;
  const el = e.target as (Node & { closest?: (s: string) => Element | null; tagName?: string }) | null;
  const inList = !!(el && list && (el === list || list.contains(el)));
  const onPage = !el || !el.tagName || el.tagName === 'BODY' || el.tagName === 'HTML';
  // Escape and Enter on a menu, button or link outside the list belong to it (closing a menu).
  if (e.key === 'Escape') return inList || onPage ? 'close' : null;
  if (e.key === 'Enter') return inList || onPage ? 'open' : null;
  if (e.key === 'j' || e.key === 'k') return 'move';
  if (!['ArrowDown', 'ArrowUp', 'PageDown', 'PageUp', 'Home', 'End'].includes(e.key)) return null;
  if (!inList && el?.closest?.('pre, [data-own-keys]')) return null;
  return 'move';
}
