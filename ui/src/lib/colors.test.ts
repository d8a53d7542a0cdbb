import { describe, expect, it } from 'vitest';
import { idHash, PALETTE_SIZE, personColor, personHue, personSlot, personTint } from './colors';

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

  it('depends on the id only, never on the order persons are seen in', () => {
    const ids = ['0190a1b2-0000-7000-8000-000000000001', '0190a1b2-0000-7000-8000-000000000002', 'user-a'];
    const forward = ids.map((id) => personColor(id, 'dark'));
    const backward = [...ids].reverse().map((id) => personColor(id, 'dark'));
    expect(backward.reverse()).toEqual(forward);
    // a known value pins the hash, so a link shared between machines shows the same colours
    expect(idHash('')).toBe(0x811c9dc5);
    expect(idHash('a')).toBe(0xe40c292c);
  });

  it('spreads ids that differ in one character over the palette', () => {
    const slots = Array.from({ length: 200 }, (_, i) => personSlot(`user-${i}`));
    const counts = new Array(PALETTE_SIZE).fill(0);
    for (const s of slots) counts[s]++;
    // 10 per slot on average: no slot is empty or holds more than three times its share
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThanOrEqual(30);
  });

  it('differs per theme and greys out when there is no person', () => {
    expect(personColor('p', 'light')).not.toBe(personColor('p', 'dark'));
    expect(personColor(null, 'light')).toBe('hsl(215 16% 72%)');
    expect(personTint(undefined, 'dark')).toBe('hsl(215 14% 28%)');
    expect(personColor('p', 'dark')).toMatch(/^hsl\(\d+ 62% (48|62|44|58)%\)$/);
  });
});
