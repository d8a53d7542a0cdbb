// The project picker and the header's count: live traffic and imported data sets kept apart.
//
// Invariant: "All projects" means live traffic; an imported data set (`import:NAME/token`) is
// counted or listed with it only when the user asked for imports.

import { datasetOf } from './transfer';

export interface ProjectCount {
  project: string;
  events: number;
}

export interface ProjectGroups {
  live: ProjectCount[];
  /** One group per imported data set, in the order the server listed them. */
  imports: { dataset: string; projects: ProjectCount[] }[];
}

/** One entry per project (a token may send through several sources), live first, imports by data set. */
export function groupProjects(projects: readonly { project: string; events: number }[], selected = ''): ProjectGroups {
  const counts = new Map<string, number>();
  for (const p of projects) counts.set(p.project, (counts.get(p.project) ?? 0) + p.events);
  if (selected && !counts.has(selected)) counts.set(selected, 0);
  const groups: ProjectGroups = { live: [], imports: [] };
  for (const [project, events] of counts) {
    const dataset = datasetOf(project);
    if (!dataset) {
      groups.live.push({ project, events });
      continue;
    }
    let group = groups.imports.find((g) => g.dataset === dataset);
    if (!group) groups.imports.push((group = { dataset, projects: [] }));
    group.projects.push({ project, events });
  }
  return groups;
}

/** The events the header counts: the selected project's, else all live traffic (plus imports if asked). */
export function headerCount(
  projects: readonly { project: string; events: number }[],
  selected: string,
  includeImports: boolean,
): number {
  let n = 0;
  for (const p of projects) {
    if (selected ? p.project === selected : includeImports || !datasetOf(p.project)) n += p.events;
  }
  return n;
}
