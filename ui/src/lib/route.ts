// Hash routes: `#/<view>[/<id>]?<params>`. Hash, not path, so client routes never collide with the
// capture paths the server stores as rejected SDK requests. Everything a view shows (filters,
// zoom, the selected item) lives in the params, so a URL can be shared or reloaded.

export type View = 'start' | 'events' | 'devices' | 'persons' | 'person' | 'warnings' | 'lens';

export interface Route {
  view: View;
  /** The person id of `#/persons/<id>`. */
  id?: string;
  params: Record<string, string>;
}

const VIEWS: Record<string, View> = {
  '': 'start',
  start: 'start',
  events: 'events',
  devices: 'devices',
  persons: 'persons',
  warnings: 'warnings',
  lens: 'lens',
};

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#/, '').replace(/^\//, '');
  const [path, query = ''] = splitOnce(text, '?');
  const [head, rest] = splitOnce(path, '/');
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) if (v !== '') params[k] = v;
  if (head === 'persons' && rest) return { view: 'person', id: decodeURIComponent(rest), params };
  return { view: VIEWS[head] ?? 'start', params };
}

export function formatHash(route: Route): string {
  const path =
    route.view === 'person'
      ? `persons/${encodeURIComponent(route.id ?? '')}`
      : route.view === 'start'
        ? ''
        : route.view;
  const query = new URLSearchParams();
  for (const key of Object.keys(route.params).sort()) {
    const value = route.params[key];
    if (value !== undefined && value !== null && value !== '') query.set(key, value);
  }
  const qs = query.toString();
  return `#/${path}${qs ? `?${qs}` : ''}`;
}

/** `params` with `changes` applied; an empty or undefined value removes the key. */
export function withParams(
  params: Record<string, string>,
  changes: Record<string, string | number | undefined | null>,
) {
  const out: Record<string, string> = { ...params };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null || v === '') delete out[k];
    else out[k] = String(v);
  }
  return out;
}

/** Params that follow the user from view to view (the project switcher, the source chips). */
export const GLOBAL_PARAMS = ['project', 'source', 'imports'] as const;

export function globalParams(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of GLOBAL_PARAMS) if (params[k]) out[k] = params[k];
  return out;
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}
