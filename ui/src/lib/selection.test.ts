import { describe, expect, it } from 'vitest';
import { decodeItem, encodeItem, transitionTitle } from './selection';
import type { DeviceLane } from './types';

const lane = {
  id: 'p/d',
  segments: [{ distinct_id: 'a' }, { distinct_id: 'b' }],
  transitions: [
    { kind: 'identify', seq: 7, explanation: 'x' },
    { kind: 'set', seq: 7, explanation: 'y' },
  ],
  sessions: [{ session_id: 's' }],
} as unknown as DeviceLane;

describe('lane selection params', () => {
  it('round-trips segments, transitions and sessions', () => {
    for (const text of ['seg:1', 'tr:7:set', 'tr:7:identify', 'ses:0']) {
      const item = decodeItem(text, lane)!;
      expect(item).not.toBeNull();
      expect(encodeItem(item, lane)).toBe(text);
    }
    expect((decodeItem('tr:7:set', lane) as { transition: { explanation: string } }).transition.explanation).toBe('y');
  });

  it('ignores what is not on the lane', () => {
    expect(decodeItem('seg:5', lane)).toBeNull();
    expect(decodeItem('tr:8:identify', lane)).toBeNull();
    expect(decodeItem('what', lane)).toBeNull();
    expect(decodeItem('seg:0', null)).toBeNull();
  });

  it('names transitions', () => {
    expect(transitionTitle('switch_without_reset')).toBe('Switch to another user without reset');
  });
});
