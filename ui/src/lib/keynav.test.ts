import { describe, expect, it } from 'vitest';
import { isTyping, listKeyAction, nextIndex } from './keynav';

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

describe('listKeyAction', () => {
  // Just enough of a DOM element for the rules: a tag, `closest` and `contains`.
  function el(tagName: string, inside: string[] = [], children: object[] = []) {
    const node = {
      tagName,
      isContentEditable: false,
      closest: (s: string) =>
        s.split(', ').some((sel) => inside.includes(sel) || sel === tagName.toLowerCase()) ? node : null,
      contains: (other: unknown) => other === node || children.includes(other as object),
    };
    return node;
  }
  const row = el('DIV');
  const list = el('DIV', [], [row]) as unknown as Node;
  const key = (k: string, target: unknown, extra = {}) => ({ key: k, target: target as EventTarget, ...extra });

  it('moves and opens from the page or the list', () => {
    expect(listKeyAction(key('j', el('BODY')), list)).toBe('move');
    expect(listKeyAction(key('ArrowDown', null), list)).toBe('move');
    expect(listKeyAction(key('Enter', el('BODY')), list)).toBe('open');
    expect(listKeyAction(key('Enter', row), list)).toBe('open');
    expect(listKeyAction(key('Escape', row), list)).toBe('close');
  });
  it('never fires while typing or with a modifier', () => {
    for (const k of ['j', 'k', 'Enter', 'ArrowDown', 'Escape']) {
      expect(listKeyAction(key(k, el('INPUT')), list)).toBeNull();
      expect(listKeyAction(key(k, el('TEXTAREA')), list)).toBeNull();
    }
    expect(listKeyAction(key('j', el('BODY'), { ctrlKey: true }), list)).toBeNull();
    expect(listKeyAction(key('ArrowDown', el('BODY'), { metaKey: true }), list)).toBeNull();
  });
  it('leaves Enter to links and buttons, and arrows to scroll regions, outside the list', () => {
    expect(listKeyAction(key('Enter', el('A')), list)).toBeNull();
    expect(listKeyAction(key('Enter', el('BUTTON')), list)).toBeNull();
    expect(listKeyAction(key('Escape', el('BUTTON')), list)).toBeNull();
    expect(listKeyAction(key('Escape', el('BODY')), list)).toBe('close');
    expect(listKeyAction(key('j', el('A')), list)).toBe('move');
    expect(listKeyAction(key('ArrowDown', el('PRE')), list)).toBeNull();
    expect(listKeyAction(key('PageDown', el('SECTION', ['[data-own-keys]'])), list)).toBeNull();
    expect(listKeyAction(key('j', el('PRE')), list)).toBe('move');
    expect(listKeyAction(key('x', el('BODY')), list)).toBeNull();
  });
});
