import { describe, expect, it } from 'vitest';
import { isTyping, nextIndex } from './keynav';

describe('nextIndex', () => {
  it('moves one row with arrows and j/k, staying in the list', () => {
    expect(nextIndex(-1, 'ArrowDown', 5)).toBe(0);
    expect(nextIndex(0, 'j', 5)).toBe(1);
    expect(nextIndex(4, 'ArrowDown', 5)).toBe(4);
    expect(nextIndex(0, 'k', 5)).toBe(0);
    expect(nextIndex(-1, 'ArrowUp', 5)).toBe(0);
  });
  it('pages and jumps to the ends', () => {
    expect(nextIndex(3, 'PageDown', 100, 20)).toBe(23);
    expect(nextIndex(95, 'PageDown', 100, 20)).toBe(99);
    expect(nextIndex(5, 'PageUp', 100, 20)).toBe(0);
    expect(nextIndex(50, 'Home', 100)).toBe(0);
    expect(nextIndex(50, 'End', 100)).toBe(99);
  });
  it('ignores other keys and empty lists', () => {
    expect(nextIndex(1, 'x', 5)).toBeNull();
    expect(nextIndex(0, 'ArrowDown', 0)).toBeNull();
  });
});

describe('isTyping', () => {
  it('recognises text fields', () => {
    expect(isTyping({ tagName: 'INPUT' } as unknown as EventTarget)).toBe(true);
    expect(isTyping({ tagName: 'DIV', isContentEditable: false } as unknown as EventTarget)).toBe(false);
    expect(isTyping(null)).toBe(false);
  });
});
