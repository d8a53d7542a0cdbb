// The one module that talks to /api: typed reads (`api.*`) and the control writes (`api.control.*`).
// Same origin, so the server's Host guard lets the UI through. Every read takes an optional
// AbortSignal: a LiveQuery passes its own, so a superseded fetch is cancelled, not just ignored.
//
// Invariants:
// - No component calls `fetch` itself; a new endpoint gets a function here.
// - Calls that change state carry this run's token (`x-inspector-token`, revealed only by
//   `GET /api/control`), so a cross-site page cannot make them; `control.send` fetches it each time
//   because the token changes at every launch of the server.

import type { Theme } from './colors';
import type { DecisionPill, PersonRef } from './eventIdentity';
import { importUrl, type Imported } from './transfer';
import type {
  Decision,
  DeviceLane,
  DevicesPage,
  Finding,
  Health,
  LensResponse,
  MixpanelIdMerge,
  PersonDetail,
  PersonSummary,
  ProjectSettings,
  ProjectSettingsResponse,
  ProjectSummary,
  RequestDetail,
  StoredEvent,
  StoredRequest,
  WarningGroupsPage,
} from './types';
import type { WhyAnswer } from './gen';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Params = Record<string, string | number | undefined | null>;

export function query(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * "All projects" means live traffic: while `liveOnly` is on, list reads made without a `project`
 * ask the server to leave imported data sets out (`live_only=1`). The app state sets it from the
 * picker ("All, with imports" turns it off).
 */
export const trafficScope = { liveOnly: true };

const SCOPED_LISTS = [
  '/api/events',
  '/api/persons',
  '/api/devices',
  '/api/warnings',
  '/api/warnings/groups',
  '/api/decisions',
];

/** `path` with `live_only=1` when it is a list read without a project and imports are left out. */
export function scopedPath(path: string, liveOnly: boolean): string {
  const [base, qs = ''] = path.split('?', 2);
  if (!liveOnly || !SCOPED_LISTS.includes(base)) return path;
  const params = new URLSearchParams(qs);
  if (params.get('project')) return path;
  params.set('live_only', '1');
  return `${base}?${params.toString()}`;
}

/** Whether a failed read means the server could not be reached (stopped, restarting), not a refusal. */
export function isUnreachable(e: unknown): boolean {
  return e instanceof TypeError || (e instanceof ApiError && e.status === 0);
}

/**
 * Whether a read failed (nothing answered, or the server failed), as opposed to a definite "no"
 * (a 4xx: not found, a bad parameter) that a view words itself.
 */
export function isFetchFailure(e: unknown): boolean {
  return (
    isUnreachable(e) || (e instanceof ApiError && e.status >= 500) || (e instanceof Error && !(e instanceof ApiError))
  );
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const url = scopedPath(path, trafficScope.liveOnly);
  let res: Response;
  try {
    res = await fetch(url, { signal, headers: { accept: 'application/json' } });
  } catch (e) {
    if (signal?.aborted) throw e;
    // fetch rejects only when nothing answered: say so instead of the browser's "Failed to fetch".
    throw new ApiError(
      0,
      `could not reach the inspector at ${globalThis.location?.host ?? 'its address'}: it stopped or is restarting`,
    );
  }
  return answer<T>(path, res);
}

/** The JSON body of an answer; an ApiError (with the server's `error` when it sent one) unless 2xx. */
async function answer<T>(path: string, res: Response): Promise<T> {
  const text = await res.text();
  if (res.ok && text === '') return undefined as T;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(res.status, `${path} answered ${res.status} with non-JSON`);
  }
  if (!res.ok) throw new ApiError(res.status, (body as { error?: string })?.error ?? `${path} answered ${res.status}`);
  return body as T;
}

export const api = {
  health: (signal?: AbortSignal) => getJson<Health>('/api/health', signal),
  projects: () => getJson<{ projects: ProjectSummary[] }>('/api/projects'),
  events: (qs: string, signal?: AbortSignal) =>
    getJson<{
      events: StoredEvent[];
      next_cursor: number | null;
      persons?: Record<string, PersonRef>;
      decisions?: Record<string, DecisionPill>;
    }>(`/api/events${qs ? `?${qs}` : ''}`, signal),
  event: (uuid: string, signal?: AbortSignal) =>
    getJson<{ event: StoredEvent }>(`/api/events/${encodeURIComponent(uuid)}`, signal),
  requests: (p: Params, signal?: AbortSignal) =>
    getJson<{ requests: StoredRequest[]; next_cursor: number | null }>(`/api/requests${query(p)}`, signal),
  request: (id: number) => getJson<RequestDetail>(`/api/requests/${id}`),
  persons: (p: Params, signal?: AbortSignal) =>
    getJson<{ persons: PersonSummary[]; total: number; next_cursor: string | null }>(`/api/persons${query(p)}`, signal),
  person: (id: string, signal?: AbortSignal) => getJson<PersonDetail>(`/api/persons/${encodeURIComponent(id)}`, signal),
  devices: (p: Params, signal?: AbortSignal) => getJson<DevicesPage>(`/api/devices${query(p)}`, signal),
  device: (id: string, signal?: AbortSignal) =>
    getJson<{ device: DeviceLane }>(`/api/devices/${encodeURIComponent(id)}`, signal),
  decisions: (p: Params, signal?: AbortSignal) =>
    getJson<{ decisions: Decision[] }>(`/api/decisions${query(p)}`, signal),
  warnings: (p: Params, signal?: AbortSignal) => getJson<{ warnings: Finding[] }>(`/api/warnings${query(p)}`, signal),
  /** Findings grouped by rule, severity and variant, the newest `per_group` of each in full. */
  warningGroups: (p: Params, signal?: AbortSignal) =>
    getJson<WarningGroupsPage>(`/api/warnings/groups${query(p)}`, signal),
  /** `mixpanelIdMerge`: Mixpanel under that ID merge mode instead of the project's own. */
  lens: (project: string, signal?: AbortSignal, mixpanelIdMerge?: MixpanelIdMerge, compare?: string) =>
    getJson<LensResponse>(`/api/lens${query({ project, mixpanel_id_merge: mixpanelIdMerge, compare })}`, signal),
  /** Why ids `a` and `b` of `project` are one person, or what keeps them apart. */
  why: (project: string, a: string, b: string, signal?: AbortSignal) =>
    getJson<WhyAnswer>(`/api/why${query({ project, a, b })}`, signal),
  /** A project's identity settings (the vendors' defaults when never configured). */
  projectSettings: (project: string) =>
    getJson<ProjectSettingsResponse>(`/api/projects/${encodeURIComponent(project)}/settings`),
  /**
   * The event with this arrival number, or null. Pages run newest first and `cursor` means "seq
   * below", so a one-event page under `seq + 1` is that event when it exists in the project.
   */
  eventBySeq: async (seq: number, project?: string): Promise<StoredEvent | null> => {
    const page = await getJson<{ events: StoredEvent[] }>(
      `/api/events${query({ project, cursor: seq + 1, limit: 1 })}`,
    );
    return page.events[0]?.seq === seq ? page.events[0] : null;
  },
  control: {
    /** Saves the theme in the settings file (the desktop window and later visits start in it). */
    setTheme: (theme: Theme) => control.send('PUT', '/api/control/theme', JSON.stringify({ theme })),
    pause: () => control.send('POST', '/api/control/pause'),
    resume: () => control.send('POST', '/api/control/resume'),
    /** Changes some of a project's identity settings; the server replays the project under them. */
    setProjectSettings: (project: string, changes: Partial<ProjectSettings>) =>
      control.send<ProjectSettingsResponse>(
        'PUT',
        `/api/projects/${encodeURIComponent(project)}/settings`,
        JSON.stringify(changes),
      ),
    /** Uploads a bundle, HAR or NDJSON file; it becomes its own data set. */
    importFile: async (file: File): Promise<Imported> =>
      (await control.send<{ imported: Imported }>('POST', importUrl(file.name), file)).imported,
  },
};

const control = {
  token: async (): Promise<string> => (await getJson<{ token: string }>('/api/control')).token,
  async send<T = unknown>(method: 'POST' | 'PUT', path: string, body?: string | Blob): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', 'x-inspector-token': await control.token() };
    if (typeof body === 'string') headers['content-type'] = 'application/json';
    return answer<T>(`${method} ${path}`, await fetch(path, { method, headers, body }));
  },
};
