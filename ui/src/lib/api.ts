// Typed reads of /api (same origin: the server's Host guard lets the UI through).

import type {
  Decision,
  DeviceLane,
  DevicesPage,
  Finding,
  Health,
  LensResponse,
  PersonDetail,
  PersonSummary,
  ProjectSummary,
  RequestDetail,
  StoredEvent,
  StoredRequest,
} from './types';

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
  const res = await fetch(path, { signal, headers: { accept: 'application/json' } });
  const text = await res.text();
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
  health: () => getJson<Health>('/api/health'),
  projects: () => getJson<{ projects: ProjectSummary[] }>('/api/projects'),
  events: (qs: string, signal?: AbortSignal) =>
    getJson<{ events: StoredEvent[]; next_cursor: number | null }>(`/api/events${qs ? `?${qs}` : ''}`, signal),
  event: (uuid: string) => getJson<{ event: StoredEvent }>(`/api/events/${encodeURIComponent(uuid)}`),
  requests: (p: Params, signal?: AbortSignal) =>
    getJson<{ requests: StoredRequest[]; next_cursor: number | null }>(`/api/requests${query(p)}`, signal),
  request: (id: number) => getJson<RequestDetail>(`/api/requests/${id}`),
  persons: (p: Params, signal?: AbortSignal) =>
    getJson<{ persons: PersonSummary[]; total: number; next_cursor: string | null }>(`/api/persons${query(p)}`, signal),
  person: (id: string) => getJson<PersonDetail>(`/api/persons/${encodeURIComponent(id)}`),
  devices: (p: Params, signal?: AbortSignal) => getJson<DevicesPage>(`/api/devices${query(p)}`, signal),
  device: (id: string) => getJson<{ device: DeviceLane }>(`/api/devices/${encodeURIComponent(id)}`),
  decisions: (p: Params) => getJson<{ decisions: Decision[] }>(`/api/decisions${query(p)}`),
  warnings: (p: Params, signal?: AbortSignal) => getJson<{ warnings: Finding[] }>(`/api/warnings${query(p)}`, signal),
  lens: (project: string, signal?: AbortSignal) => getJson<LensResponse>(`/api/lens${query({ project })}`, signal),
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
};

/** Calls `fn` at most once per `ms` (first call at once, the last one of a burst at the end). */
export function throttle(fn: () => void, ms: number): () => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0 && !timer) {
      last = Date.now();
      fn();
    } else if (!timer) {
      timer = setTimeout(
        () => {
          timer = null;
          last = Date.now();
          fn();
        },
        Math.max(0, wait),
      );
    }
  };
}
