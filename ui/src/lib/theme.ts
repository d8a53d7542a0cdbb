// The header's theme button: one click steps through the three choices.

import type { Theme } from './colors';

/** What the user picked: a theme, or "follow the system". */
export type ThemeChoice = Theme | 'system';

const ORDER: ThemeChoice[] = ['light', 'dark', 'system'];

/** Light → dark → system → light. */
export function nextTheme(choice: ThemeChoice): ThemeChoice {
  return ORDER[(ORDER.indexOf(choice) + 1) % ORDER.length];
}

/** The button's accessible name: what is on now and what a click does. */
export function themeButtonLabel(choice: ThemeChoice, shown: Theme): string {
  const now = choice === 'system' ? `system (${shown})` : choice;
  const next = nextTheme(choice);
  return `Theme: ${now}. Switch to ${next === 'system' ? 'the system theme' : `${next} theme`}`;
}
