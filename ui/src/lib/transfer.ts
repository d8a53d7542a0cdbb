// Export links and import uploads: pure helpers for ExportMenu and ImportDrop.

export type ExportFormat = 'bundle' | 'ndjson' | 'har' | 'csv';

export const EXPORT_FORMATS: { format: ExportFormat; label: string; hint: string }[] = [
  { format: 'bundle', label: 'Inspector bundle', hint: 'raw requests; opens in another inspector' },
  { format: 'ndjson', label: 'NDJSON events', hint: "PostHog's capture format, ready for /batch" },
  { format: 'har', label: 'HAR', hint: 'the HTTP requests, for devtools or HTTP Toolkit' },
  { format: 'csv', label: 'CSV', hint: 'events for spreadsheets' },
];

/** What to export: at most one of session, device (lane id or $device_id) and person. */
export interface ExportScope {
  project?: string | null;
  session?: string | null;
  device?: string | null;
  person?: string | null;
}

/** `/api/export?...` for a scope and a format (empty parts left out). */
export function exportUrl(scope: ExportScope, format: ExportFormat): string {
  const q = new URLSearchParams({ format });
  for (const key of ['project', 'session', 'device', 'person'] as const) {
    const v = scope[key];
    if (v) q.set(key, v);
  }
  return `/api/export?${q.toString()}`;
}

/** `/api/import?filename=...` for an uploaded file. */
export function importUrl(fileName: string, name?: string): string {
  const q = new URLSearchParams({ filename: fileName });
  if (name) q.set('name', name);
  return `/api/import?${q.toString()}`;
}

/** The data set part of a project (`import:bug/phc_x` → `import:bug`), or null for live traffic. */
export function datasetOf(project: string | null | undefined): string | null {
  if (!project || !project.startsWith('import:')) return null;
  const slash = project.indexOf('/');
  return slash > 0 ? project.slice(0, slash) : null;
}

/** Whether a drag carries files (not text or a link dragged inside the page). */
export function dragHasFiles(types: readonly string[] | null | undefined): boolean {
  return !!types && Array.from(types).includes('Files');
}

export interface Imported {
  dataset: string;
  requests: number;
  events: number;
}

/** One sentence about a finished import. */
export function importMessage(fileName: string, imported: Imported): string {
  const events = `${imported.events} event${imported.events === 1 ? '' : 's'}`;
  return `Imported ${events} from ${fileName} into ${imported.dataset}: pick its project (${imported.dataset}/…) to see it.`;
}
