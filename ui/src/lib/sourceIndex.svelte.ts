// Which sources each project's events came from, derived once from the project list for every
// badge that has to fall back on its item's project.

import { projectSources, type ProjectSources } from './sources';
import { app } from './state.svelte';

class SourceIndex {
  byProject: ProjectSources = $derived(projectSources(app.projects));
}

export const sourceIndex = new SourceIndex();
