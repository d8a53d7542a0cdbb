// Events view filters: URL params <-> API query, and the merged feed of events and rejected
// requests (newest first) that the table shows.

import { formatSourceParam, parseSourceParam, sourceMatches } from './sources';
import type { StoredEvent, StoredRequest } from './types';

export const EVENT_FILTER_KEYS = ['project', 'source', 'event', 'distinct_id', 'device_id', 'session_id', 'q'] as const;
export type EventFilterKey = (typeof EVENT_FILTER_KEYS)[number];
export type EventFilters = Partial<Record<EventFilterKey, string>>;

export const FILTER_LABELS: Record<EventFilterKey, string> = {
  project: 'project',
  source: 'source',
  event: 'event',
  distinct_id: 'distinct id',
  device_id: 'device',
  session_id: 'session',
  q: 'text',
};

export function filtersFromParams(params: Record<string, string>): EventFilters {
  const out: EventFilters = {};
  for (const key of EVENT_FILTER_KEYS) {
    const v = key === 'source' ? formatSourceParam(parseSourceParam(params.source)) : params[key]?.trim();
    if (v) out[key] = v;
  }
  return out;
}

/** The `/api/events` query string for these filters and paging options (`source` comma-separated). */
export function eventsQuery(
  filters: EventFilters,
  page: { limit?: number; cursor?: number | null; after?: number | null } = {},
): string {
  const q = new URLSearchParams();
  for (const key of EVENT_FILTER_KEYS) if (filters[key]) q.set(key, filters[key]!);
  if (page.limit) q.set('limit', String(page.limit));
  if (page.cursor != null) q.set('cursor', String(page.cursor));
  if (page.after != null) q.set('after', String(page.after));
  return q.toString();
}

/**
 * Whether a request (rejected, or accepted without events) can match the filters. Rejected requests have no event name, id,
 * device or session, so those filters hide them; project, source and text still apply.
 */
export function rejectedMatches(filters: EventFilters, r: StoredRequest): boolean {
  if (filters.event || filters.distinct_id || filters.device_id || filters.session_id) return false;
  if (!sourceMatches(parseSourceParam(filters.source), r.source)) return false;
  const hay =
    `${r.method} ${r.path} ${r.query ?? ''} ${r.error ?? ''} ${r.error_code ?? ''} ${r.body_preview}`.toLowerCase();
  if (filters.project && (r.project ? r.project !== filters.project : !hay.includes(filters.project.toLowerCase())))
    return false;
  if (filters.q && !hay.includes(filters.q.toLowerCase())) return false;
  return true;
}

/**
 * A row of the Events table: an event, a rejected request, a request a fault rule answered, or an
 * accepted request without events.
 */
export type FeedRow =
  | { kind: 'event'; key: string; at: number; event: StoredEvent }
  | { kind: 'rejected' | 'faulted' | 'request'; key: string; at: number; request: StoredRequest };

/** The kind of row a request is (by its outcome). */
function requestKind(request: StoredRequest): 'rejected' | 'faulted' | 'request' {
  if (request.outcome === 'rejected') return 'rejected';
  return request.outcome === 'faulted' ? 'faulted' : 'request';
}

/**
 * Events (newest first, as the API pages them) merged with requests (rejected and faulted ones, and
 * accepted ones without events when the Requests toggle is on) by arrival time. While older events remain
 * to be loaded (`hasMore`), requests older than the oldest loaded event are held back, so they
 * appear in their place once the table gets there.
 */
export function mergeFeed(events: StoredEvent[], requests: StoredRequest[], hasMore: boolean): FeedRow[] {
  const oldest = events.length ? Date.parse(events[events.length - 1].received_at) : Infinity;
  const rej = requests
    .map((request) => ({
      kind: requestKind(request),
      key: `r${request.id}`,
      at: Date.parse(request.received_at),
      request,
    }))
    .filter((r) => !hasMore || r.at >= oldest)
    .sort((a, b) => b.at - a.at || b.request.id - a.request.id);
  if (rej.length === 0) return events.map(eventRow);
  const out: FeedRow[] = [];
  let j = 0;
  for (const e of events) {
    const at = Date.parse(e.received_at);
    while (j < rej.length && rej[j].at > at) out.push(rej[j++]);
    out.push({ kind: 'event', key: e.uuid + e.seq, at, event: e });
  }
  while (j < rej.length) out.push(rej[j++]);
  return out;
}

function eventRow(event: StoredEvent): FeedRow {
  return { kind: 'event', key: event.uuid + event.seq, at: Date.parse(event.received_at), event };
}

/**
 * New events from the live stream (newest first) placed before the loaded ones, without
 * duplicates (a page may overlap what the stream brought).
 */
export function prependEvents(loaded: StoredEvent[], fresh: StoredEvent[]): StoredEvent[] {
  if (fresh.length === 0) return loaded;
  const top = loaded.length ? loaded[0].seq : -Infinity;
  const newer = fresh.filter((e) => e.seq > top).sort((a, b) => b.seq - a.seq);
  return newer.length ? newer.concat(loaded) : loaded;
}

/** `?rejected=1`: the table shows rejected requests only (the toolbar's "N rejected" toggle). */
export const rejectedOnly = (params: Record<string, string>) => params.rejected === '1';

/** `?requests=1`: accepted requests that carried no events (flags, config) are rows too. */
export const requestsShown = (params: Record<string, string>) => params.requests === '1';

// The keys that name a project in a capture request, per the vendors' capture protocols: PostHog's
// batch `api_key`/`token` and event `token`/`$token`, Segment's and RudderStack's `writeKey`,
// Mixpanel's `token`/`$token`. The server stores the key a request names (`project`, read where
// each vendor reads it, also from compressed bodies); these are for requests stored before it did.
const PROJECT_KEY = /"(?:api_key|token|\$token|writeKey)"\s*:\s*"([^"\\]{1,200})"/;
const PROJECT_PARAM = /(?:^|&)(?:token|api_key|writeKey)=([^&]{1,200})/;

/**
 * The project key a request names: the server's `project`, else what its body preview (or query
 * string) names when readable there (a compressed body's preview is not); null otherwise.
 */
export function requestProject(
  r: Pick<StoredRequest, 'body_preview' | 'query'> & { project?: string | null },
): string | null {
  if (r.project) return r.project;
  const inBody = PROJECT_KEY.exec(r.body_preview)?.[1];
  if (inBody) return inBody;
  const inQuery = r.query ? PROJECT_PARAM.exec(r.query)?.[1] : undefined;
  if (!inQuery) return null;
  try {
    return decodeURIComponent(inQuery);
  } catch {
    return inQuery;
  }
}
