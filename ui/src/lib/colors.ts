// One colour per person, the same in every view of a page session. Red hues are left out: red means
// "wrong" everywhere in the UI (refused merges, a switch without reset, rejected requests).

export type Theme = 'light' | 'dark';

/**
 * 20 well-separated colours: 10 hues 29° apart from 35° to 296° (no red), each in two shades.
 * Neighbouring persons rarely look alike, which a continuous hue could not promise.
 */
export const PALETTE_SIZE = 20;

/**
 * Hands out palette slots in order of appearance: a person keeps its slot for the whole page
 * session, the n-th new person gets slot n (mod 20). Slots map to hues 87° apart (see
 * `personHue`), so persons seen one after the other (the segments of one lane) never look alike,
 * the first 20 persons all differ, and a person looks the same in every view.
 */
export class Palette {
  private slots = new Map<string, number>();

  slot(personId: string): number {
    let slot = this.slots.get(personId);
    if (slot === undefined) {
      slot = this.slots.size % PALETTE_SIZE;
      this.slots.set(personId, slot);
    }
    return slot;
  }
}

const session = new Palette();

export function personSlot(personId: string, palette: Palette = session): number {
  return palette.slot(personId);
}

/** Slot → hue: neighbouring slots are 3 hue steps (87°) apart, so probing to the next slot still changes colour a lot. */
export function personHue(personId: string, palette: Palette = session): number {
  return 35 + (((personSlot(personId, palette) % 10) * 3) % 10) * 29;
}

export function personColor(personId: string | null | undefined, theme: Theme, palette: Palette = session): string {
  if (!personId) return theme === 'dark' ? 'hsl(215 14% 40%)' : 'hsl(215 16% 72%)';
  const hue = personHue(personId, palette);
  const deep = personSlot(personId, palette) >= 10;
  // Yellows and greens look lighter than blues at the same lightness: darken them so white
  // labels stay readable on them (light theme) and they do not glare (dark theme).
  const bright = hue >= 45 && hue <= 190 ? 8 : 0;
  return theme === 'dark'
    ? `hsl(${hue} 62% ${(deep ? 48 : 62) - bright / 2}%)`
    : `hsl(${hue} 64% ${(deep ? 36 : 48) - bright}%)`;
}

/** A paler tint of the person's colour for anonymous segments that already belong to a person. */
export function personTint(personId: string | null | undefined, theme: Theme, palette: Palette = session): string {
  if (!personId) return theme === 'dark' ? 'hsl(215 14% 28%)' : 'hsl(215 20% 88%)';
  const hue = personHue(personId, palette);
  return theme === 'dark' ? `hsl(${hue} 30% 30%)` : `hsl(${hue} 55% 86%)`;
}
