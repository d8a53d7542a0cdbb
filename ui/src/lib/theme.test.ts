import { describe, expect, it } from 'vitest';
import { nextTheme, themeButtonLabel } from './theme';

describe('theme choice', () => {
  it('cycles light, dark, system and back', () => {
    expect(nextTheme('light')).toBe('dark');
    expect(nextTheme('dark')).toBe('system');
    expect(nextTheme('system')).toBe('light');
  });

  it('names what is shown now and what a click does', () => {
    expect(themeButtonLabel('system', 'dark')).toBe('Theme: system (dark). Switch to light theme');
    expect(themeButtonLabel('dark', 'dark')).toBe('Theme: dark. Switch to the system theme');
  });
});
