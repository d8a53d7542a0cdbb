// What the project settings mean, in the vendors' own terms, for the settings panel.
//
// Sources: Mixpanel, "Migrating to Simplified ID Merge" and "Identifying Users (Simplified)" /
// "Identifying Users (Original)" (docs.mixpanel.com/docs/tracking-methods/id-management/);
// Segment, "Identity Resolution Settings" (segment.com/docs/unify/identity-resolution/).

import type { MixpanelIdMerge, PostHogCookieless } from '../lib/gen';

export const MIXPANEL_MODES: { value: MixpanelIdMerge; label: string; sentence: string }[] = [
  {
    value: 'simplified',
    label: 'Simplified ID Merge',
    sentence:
      'Mixpanel links a device to a user the first time one event carries both $device_id and $user_id; ' +
      '$identify, $create_alias and $merge do nothing, and clusters have no 500-id cap. ' +
      'The default for new projects.',
  },
  {
    value: 'original',
    label: 'Original ID Merge',
    sentence:
      'Mixpanel merges ids retroactively through $identify, $create_alias and $merge (the last only from ' +
      '/import), so several anonymous states across devices join one identified user, up to 500 ids per cluster.',
  },
];

/**
 * PostHog's cookieless server hash modes (the project setting read by PostHog's ingestion,
 * `nodejs/src/ingestion/cookieless/cookieless-manager.ts`).
 */
export const POSTHOG_COOKIELESS_MODES: { value: PostHogCookieless; label: string; sentence: string }[] = [
  {
    value: 'stateful',
    label: 'Stateful',
    sentence:
      'PostHog replaces $posthog_cookieless with a daily hash of the visitor (IP, user agent, host) and keeps ' +
      '$identify, counting identifies per visitor.',
  },
  {
    value: 'stateless',
    label: 'Stateless',
    sentence: 'The same hash, but PostHog drops $identify, $create_alias and $merge_dangerously.',
  },
  {
    value: 'disabled',
    label: 'Disabled',
    sentence: 'PostHog drops every event sent with $posthog_cookieless.',
  },
];

/** Unify's suggested blocked values (opt-in at Segment). */
export const SEGMENT_SUGGESTED_BLOCKED: { value: string; kind: string }[] = [
  { value: '^[0-]*$', kind: 'regex' },
  { value: '-1', kind: 'exact' },
  { value: 'null', kind: 'exact' },
  { value: 'anonymous', kind: 'exact' },
];

/** Unify's default identifier limits per profile: 1 user_id, 5 of every other identifier. */
export function defaultLimit(identifier: string): number {
  return identifier === 'user_id' ? 1 : 5;
}

/** Identifier names the panel always offers (more can be added by name). */
export const COMMON_IDENTIFIERS = ['user_id', 'email', 'anonymous_id'];
