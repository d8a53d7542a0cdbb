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

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return answer<T>(path, await fetch(path, { signal, headers: { accept: 'application/json' } }));
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
    getJson<{ events: StoredEvent[]; next_cursor: number | null }>(`/api/events${qs ? `?${qs}` : ''}`, signal),
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
  decisions: (p: Params) => getJson<{ decisions: Decision[] }>(`/api/decisions${query(p)}`),
  warnings: (p: Params, signal?: AbortSignal) => getJson<{ warnings: Finding[] }>(`/api/warnings${query(p)}`, signal),
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
