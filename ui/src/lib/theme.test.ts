import { describe, expect, it } from 'vitest';
import { nextTheme, themeButtonLabel } from './theme';

describe('theme choice', () => {
  it('goes from system to the other theme first, so the first click always shows a change', () => {
    expect(nextTheme('system', 'light')).toBe('dark');
    expect(nextTheme('dark', 'light')).toBe('light');
    expect(nextTheme('light', 'light')).toBe('system');
    expect(nextTheme('system', 'dark')).toBe('light');
    expect(nextTheme('light', 'dark')).toBe('dark');
    expect(nextTheme('dark', 'dark')).toBe('system');
  });

  it('names what is shown now and what a click does', () => {
    expect(themeButtonLabel('system', 'dark')).toBe('Theme: system (dark). Switch to light theme');
    expect(themeButtonLabel('light', 'light')).toBe('Theme: light. Switch to the system theme');
  });
});
