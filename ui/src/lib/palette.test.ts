import { describe, expect, it } from 'vitest';

import { idHash, PALETTE_SIZE, placeSlots } from './colors';

/** Two ids whose hashes share a palette slot. */
function collidingPair(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const id = `person-${i}`;
    const slot = idHash(id) % PALETTE_SIZE;
    const other = seen.get(slot);
    if (other) return [other, id];
    seen.set(slot, id);
  }
}

describe('placeSlots', () => {
  it('keeps each person on its hash slot when nothing collides', () => {
    const slots = placeSlots(['a', 'b']);
    if (idHash('a') % PALETTE_SIZE !== idHash('b') % PALETTE_SIZE) {
      expect(slots.get('a')).toBe(idHash('a') % PALETTE_SIZE);
      expect(slots.get('b')).toBe(idHash('b') % PALETTE_SIZE);
    }
  });

  it('gives two persons with the same hash slot different colours, whatever their order', () => {
    const [x, y] = collidingPair();
    const one = placeSlots([x, y]);
    const two = placeSlots([y, x]);
    expect(one.get(x)).not.toBe(one.get(y));
    expect([...one]).toEqual([...two]);
  });

  it('never repeats a slot among up to PALETTE_SIZE persons', () => {
    const ids = Array.from({ length: PALETTE_SIZE }, (_, i) => `p${i}`);
    expect(new Set(placeSlots(ids).values()).size).toBe(PALETTE_SIZE);
  });
});
