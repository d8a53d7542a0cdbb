// Which sources each project's events came from, derived once from the project list for every
// badge that has to fall back on its item's project; and whose rules each source gets, as the
// server's health says.

import { projectSources, type Families, type ProjectSources } from './sources';
import { app } from './state.svelte';

class SourceIndex {
  byProject: ProjectSources = $derived(projectSources(app.projects));
  families: Families = $derived(app.health?.families ?? {});
}

export const sourceIndex = new SourceIndex();
