// The one settings panel of the page, opened from any view (`projectSettings.openFor(key)`).

import { api } from '../lib/api';
import { ProjectSettingsState } from './projectSettings.svelte';

export const projectSettings = new ProjectSettingsState({
  get: api.projectSettings,
  put: api.control.setProjectSettings,
});
