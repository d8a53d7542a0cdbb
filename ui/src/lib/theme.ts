// The header's theme button: one click steps through the three choices, visible change first.

import type { Theme } from './colors';

/** What the user picked: a theme, or "follow the system". */
export type ThemeChoice = Theme | 'system';

const opposite = (t: Theme): Theme => (t === 'dark' ? 'light' : 'dark');

/**
 * System → the other theme → the system's theme → system. Of the three steps only the last shows
 * no change (the system's theme stays), and the button's label says "system" after it.
 */
export function nextTheme(choice: ThemeChoice, system: Theme): ThemeChoice {
  if (choice === 'system') return opposite(system);
  return choice === system ? 'system' : system;
}

/** The button's accessible name: what is on now and what a click does. */
export function themeButtonLabel(choice: ThemeChoice, system: Theme): string {
  const now = choice === 'system' ? `system (${system})` : choice;
  const next = nextTheme(choice, system);
  return `Theme: ${now}. Switch to ${next === 'system' ? 'the system theme' : `${next} theme`}`;
}
