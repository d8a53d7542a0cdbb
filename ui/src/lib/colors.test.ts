import { describe, expect, it } from 'vitest';
import { Palette, PALETTE_SIZE, personColor, personHue, personTint } from './colors';

describe('person colours', () => {
  it('gives the same person the same colour and keeps clear of red', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `person-${i}`);
    for (const id of ids) {
      const hue = personHue(id);
      expect(hue).toBeGreaterThanOrEqual(30);
      expect(hue).toBeLessThan(330);
      expect(personColor(id, 'light')).toBe(personColor(id, 'light'));
    }
    // 500 persons use every colour of the palette, and only those
    expect(new Set(ids.map((id) => personColor(id, 'light'))).size).toBe(PALETTE_SIZE);
    expect(new Set(ids.map((id) => personHue(id))).size).toBe(10);
  });

  it('gives the first 20 persons 20 different colours, one after the other far apart in hue', () => {
    const palette = new Palette();
    const ids = Array.from({ length: 21 }, (_, i) => `p-${i}`);
    const slots = ids.map((id) => palette.slot(id));
    expect(new Set(slots.slice(0, 20)).size).toBe(20);
    expect(new Set(slots.slice(0, 10).map((slot) => slot % 10)).size).toBe(10); // first 10: 10 hues
    expect(palette.slot('p-3')).toBe(slots[3]); // stable
    expect(slots[20]).toBe(slots[0]); // the 21st person shares the first one's colour
    const hues = ids.slice(0, 10).map((id) => personHue(id, palette));
    for (let i = 1; i < hues.length; i++) {
      const d = Math.abs(hues[i] - hues[i - 1]);
      expect(Math.min(d, 360 - d)).toBeGreaterThanOrEqual(58);
    }
    expect(personColor('p-5', 'light', palette)).toBe(personColor('p-5', 'light', palette));
    expect(new Set(ids.slice(0, 20).map((id) => personColor(id, 'light', palette))).size).toBe(20);
  });

  it('differs per theme and greys out when there is no person', () => {
    expect(personColor('p', 'light')).not.toBe(personColor('p', 'dark'));
    expect(personColor(null, 'light')).toBe('hsl(215 16% 72%)');
    expect(personTint(undefined, 'dark')).toBe('hsl(215 14% 28%)');
    expect(personColor('p', 'dark')).toMatch(/^hsl\(\d+ 62% (48|62|44|58)%\)$/);
  });
});
