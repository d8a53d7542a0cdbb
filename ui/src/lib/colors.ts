// One colour per person, stable across reloads and views. Red hues are left out: red means
// "wrong" everywhere in the UI (refused merges, a switch without reset, rejected requests).

export type Theme = 'light' | 'dark';

/** FNV-1a, 32 bit: a cheap, well-spread hash of a string. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * 20 well-separated colours: 10 hues 29° apart from 35° to 296° (no red), each in two shades.
 * Neighbouring persons rarely look alike, which a continuous hue could not promise.
 */
export const PALETTE_SIZE = 20;

export function personSlot(personId: string): number {
  return hash32(personId) % PALETTE_SIZE;
}

export function personHue(personId: string): number {
  return 35 + (personSlot(personId) % 10) * 29;
}

export function personColor(personId: string | null | undefined, theme: Theme): string {
  if (!personId) return theme === 'dark' ? 'hsl(215 14% 40%)' : 'hsl(215 16% 72%)';
  const hue = personHue(personId);
  const deep = personSlot(personId) >= 10;
  return theme === 'dark' ? `hsl(${hue} 62% ${deep ? 48 : 62}%)` : `hsl(${hue} 64% ${deep ? 36 : 48}%)`;
}

/** A paler tint of the person's colour for anonymous segments that already belong to a person. */
export function personTint(personId: string | null | undefined, theme: Theme): string {
  if (!personId) return theme === 'dark' ? 'hsl(215 14% 28%)' : 'hsl(215 20% 88%)';
  const hue = personHue(personId);
  return theme === 'dark' ? `hsl(${hue} 30% 30%)` : `hsl(${hue} 55% 86%)`;
}
