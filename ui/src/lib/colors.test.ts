import { describe, expect, it } from 'vitest';
import { hash32, PALETTE_SIZE, personColor, personHue, personTint } from './colors';

describe('person colours', () => {
  it('hashes strings with FNV-1a', () => {
    expect(hash32('')).toBe(0x811c9dc5);
    expect(hash32('a')).toBe(0xe40c292c);
  });

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
    expect(new Set(ids.map(personHue)).size).toBe(10);
  });

  it('differs per theme and greys out when there is no person', () => {
    expect(personColor('p', 'light')).not.toBe(personColor('p', 'dark'));
    expect(personColor(null, 'light')).toBe('hsl(215 16% 72%)');
    expect(personTint(undefined, 'dark')).toBe('hsl(215 14% 28%)');
    expect(personColor('p', 'dark')).toMatch(/^hsl\(\d+ 62% (48|62)%\)$/);
  });
});
