// What is selected in the devices view, as a URL param: `seg:<index>`, `tr:<seq>:<kind>` (a
// transition) or `ses:<index>` (a session start), always together with the lane id.

import type { DeviceLane, Segment, SessionSpan, Transition } from './types';

export type LaneItem =
  | { type: 'segment'; index: number; segment: Segment }
  | { type: 'transition'; transition: Transition }
  | { type: 'session'; index: number; session: SessionSpan };

export function encodeItem(item: LaneItem, lane: DeviceLane): string {
  switch (item.type) {
    case 'segment':
      return `seg:${item.index}`;
    case 'session':
      return `ses:${item.index}`;
    case 'transition':
      return `tr:${item.transition.seq}:${item.transition.kind}`;
  }
  void lane;
}

export function decodeItem(text: string | undefined, lane: DeviceLane | null): LaneItem | null {
  if (!text || !lane) return null;
  const [type, a, kind] = text.split(':');
  if (type === 'seg') {
    const index = Number(a);
    const segment = lane.segments[index];
    return segment ? { type: 'segment', index, segment } : null;
  }
  if (type === 'ses') {
    const index = Number(a);
    const session = lane.sessions[index];
    return session ? { type: 'session', index, session } : null;
  }
  if (type === 'tr') {
    const seq = Number(a);
    const transition = lane.transitions.find((t) => t.seq === seq && t.kind === kind);
    return transition ? { type: 'transition', transition } : null;
  }
  return null;
}

/** Human words for a transition kind. */
export function transitionTitle(kind: string): string {
  switch (kind) {
    case 'identify':
      return 'Identify';
    case 'alias':
      return 'Alias';
    case 'reset':
      return 'Reset';
    case 'reset_device':
      return 'Reset with a new device id';
    case 'switch_without_reset':
      return 'Switch to another user without reset';
    case 'set':
      return 'Person properties set';
    default:
      return kind;
  }
}
