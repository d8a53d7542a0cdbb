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

/**
 * `/api/export?...` for a scope and a format (empty parts left out). Secret headers (cookies,
 * authorization) are redacted by the server unless `keepSecrets` asks for `secrets=keep`.
 */
export function exportUrl(scope: ExportScope, format: ExportFormat, keepSecrets = false): string {
  const q = new URLSearchParams({ format });
  for (const key of ['project', 'session', 'device', 'person'] as const) {
    const v = scope[key];
    if (v) q.set(key, v);
  }
  if (keepSecrets) q.set('secrets', 'keep');
  return `/api/export?${q.toString()}`;
}

const EXTENSIONS: Record<ExportFormat, string> = { bundle: 'iibundle', ndjson: 'ndjson', har: 'har', csv: 'csv' };

/**
 * The start and end of the name the server gives the download (`inspector-session-s-1-….iibundle`;
 * the server adds the time, and for a person its first distinct id, which the page does not know).
 */
export function exportFileName(scope: ExportScope, format: ExportFormat): string {
  const what = scope.session
    ? `session-${scope.session}`
    : scope.device
      ? `device-${scope.device}`
      : scope.person
        ? 'person'
        : (scope.project ?? 'all');
  const safe = Array.from(what, (c) => (/[A-Za-z0-9._-]/.test(c) ? c : '_'))
    .slice(0, 60)
    .join('');
  return `inspector-${safe}-….${EXTENSIONS[format]}`;
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
  return `Imported ${events} from ${fileName} into ${imported.dataset}, kept apart from live traffic.`;
}

/** The first project of an imported data set (what "Open import:NAME" selects), or null. */
export function firstProjectOf(dataset: string, projects: readonly { project: string }[]): string | null {
  return projects.find((p) => datasetOf(p.project) === dataset)?.project ?? null;
}

/** What the export menu says once a download started: which file, and where browsers put it. */
export function savedMessage(scope: ExportScope, format: ExportFormat): string {
  return `Saved ${exportFileName(scope, format)} to your browser's downloads folder`;
}
