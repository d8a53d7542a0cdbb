// One colour per person, derived from the person id alone: the same person has the same colour in
// every view, every tab and every shared link, whatever order persons appear in. Red hues are left
// out: red means "wrong" everywhere in the UI (refused merges, a switch without reset, rejected
// requests).

export type Theme = 'light' | 'dark';

/** 20 well-separated colours: 10 hues 29° apart from 35° to 296° (no red), each in two shades. */
export const PALETTE_SIZE = 20;

/**
 * FNV-1a (32 bit) of the id's UTF-16 code units: cheap, stable across browsers and sessions, and
 * spreads ids that differ in one character (uuids, `user-1`/`user-2`) over the whole palette.
 */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Which palette slot each person drawn together takes: a person's slot is its id's hash, the same in
 * every view and tab; when two persons shown together hash to the same slot, the one later in
 * (hash, id) order takes the next free slot. The result depends only on the set, never on order.
 */
export function placeSlots(personIds: Iterable<string>): Map<string, number> {
  const ids = [...new Set(personIds)].sort((a, b) => idHash(a) - idHash(b) || (a < b ? -1 : a > b ? 1 : 0));
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const id of ids) {
    let slot = idHash(id) % PALETTE_SIZE;
    // More persons than colours: the rest keep their own slot (a repeat cannot be avoided).
    if (taken.size < PALETTE_SIZE) while (taken.has(slot)) slot = (slot + 1) % PALETTE_SIZE;
    taken.add(slot);
    out.set(id, slot);
  }
  return out;
}

/** Slots chosen for persons drawn together (`palette.svelte.ts`), set by the view that draws them. */
let placed: ReadonlyMap<string, number> = new Map();

/** Lets `palette.svelte.ts` hand its reactive map over (read during rendering, so views follow it). */
export function usePlacedSlots(slots: ReadonlyMap<string, number>) {
  placed = slots;
}

/** The palette slot of a person: its id's hash, unless another person drawn with it has that slot. */
export function personSlot(personId: string): number {
  return placed.get(personId) ?? idHash(personId) % PALETTE_SIZE;
}

/** Slot → hue: neighbouring slots are 3 hue steps (87°) apart. */
export function personHue(personId: string): number {
  return 35 + (((personSlot(personId) % 10) * 3) % 10) * 29;
}

export function personColor(personId: string | null | undefined, theme: Theme): string {
  if (!personId) return theme === 'dark' ? 'hsl(215 14% 40%)' : 'hsl(215 16% 72%)';
  const hue = personHue(personId);
  const deep = personSlot(personId) >= 10;
  // Yellows and greens look lighter than blues at the same lightness: darken them so white
  // labels stay readable on them (light theme) and they do not glare (dark theme).
  const bright = hue >= 45 && hue <= 190 ? 8 : 0;
  return theme === 'dark'
    ? `hsl(${hue} 62% ${(deep ? 48 : 62) - bright / 2}%)`
    : `hsl(${hue} 64% ${(deep ? 36 : 48) - bright}%)`;
}

/** A paler tint of the person's colour for anonymous segments that already belong to a person. */
export function personTint(personId: string | null | undefined, theme: Theme): string {
  if (!personId) return theme === 'dark' ? 'hsl(215 14% 28%)' : 'hsl(215 20% 88%)';
  const hue = personHue(personId);
  return theme === 'dark' ? `hsl(${hue} 30% 30%)` : `hsl(${hue} 55% 86%)`;
}
