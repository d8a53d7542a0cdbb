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

/**
 * Hands out palette slots: a person keeps its slot for the whole page session; a new person gets
 * its hashed slot if no one has it yet, else the next least-used slot after it. So up to 20
 * persons on screen always get 20 different colours, and a person looks the same in every view.
 */
export class Palette {
  private slots = new Map<string, number>();
  private uses = new Array<number>(PALETTE_SIZE).fill(0);
  private hueUses = new Array<number>(PALETTE_SIZE / 2).fill(0);

  slot(personId: string): number {
    const known = this.slots.get(personId);
    if (known !== undefined) return known;
    // Cheapest slot from the hashed one on: unused first, and among those an unused hue (so the
    // first 10 persons differ in hue, not just in shade).
    const cost = (slot: number) => this.uses[slot] * 100 + this.hueUses[slot % 10];
    const start = hash32(personId) % PALETTE_SIZE;
    let best = start;
    for (let k = 1; k < PALETTE_SIZE; k++) {
      const candidate = (start + k) % PALETTE_SIZE;
      if (cost(candidate) < cost(best)) best = candidate;
    }
    this.slots.set(personId, best);
    this.uses[best]++;
    this.hueUses[best % 10]++;
    return best;
  }
}

const session = new Palette();

export function personSlot(personId: string, palette: Palette = session): number {
  return palette.slot(personId);
}

export function personHue(personId: string, palette: Palette = session): number {
  return 35 + (personSlot(personId, palette) % 10) * 29;
}

export function personColor(personId: string | null | undefined, theme: Theme, palette: Palette = session): string {
  if (!personId) return theme === 'dark' ? 'hsl(215 14% 40%)' : 'hsl(215 16% 72%)';
  const hue = personHue(personId, palette);
  const deep = personSlot(personId, palette) >= 10;
  // Yellows and greens look lighter than blues at the same lightness: darken them so white
  // labels stay readable on them (light theme) and they do not glare (dark theme).
  const bright = hue >= 45 && hue <= 190 ? 8 : 0;
  return theme === 'dark' ? `hsl(${hue} 62% ${(deep ? 48 : 62) - bright / 2}%)` : `hsl(${hue} 64% ${(deep ? 36 : 48) - bright}%)`;
}

/** A paler tint of the person's colour for anonymous segments that already belong to a person. */
export function personTint(personId: string | null | undefined, theme: Theme, palette: Palette = session): string {
  if (!personId) return theme === 'dark' ? 'hsl(215 14% 28%)' : 'hsl(215 20% 88%)';
  const hue = personHue(personId, palette);
  return theme === 'dark' ? `hsl(${hue} 30% 30%)` : `hsl(${hue} 55% 86%)`;
}
