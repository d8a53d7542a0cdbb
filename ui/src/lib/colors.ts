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

/** The palette slot of a person: a pure function of its id. */
export function personSlot(personId: string): number {
  return idHash(personId) % PALETTE_SIZE;
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
