// An SDK that connected but sent no events: the requests it did send (feature flags, remote
// config) prove it reached the inspector, so the Start page can say so and name the likely cause
// instead of a green "Receiving traffic · 0 events".

import type { StoredRequest } from './types';

export interface SdkConnection {
  /** The request source (`posthog`, `segment`, ...). */
  source: string;
  /** The calls it made, in the words of its routes (`/flags`, `config`). */
  calls: string[];
  /** The project token, when a request's path or query names it. */
  token: string | null;
  /** Id of a request whose body may name the token (flags bodies carry it), when none did. */
  bodyRequestId: number | null;
}

/** Short names for the non-event routes an SDK calls when it starts. */
const CALL_NAMES: Record<string, string> = {
  flags: '/flags',
  decide: '/decide',
  remote_config: 'config',
  settings: 'settings',
};

/** A non-event request in the words of its route (`/flags`, `config`), or its route or path. */
export function callName(r: Pick<StoredRequest, 'route' | 'path'>): string {
  if (r.route && CALL_NAMES[r.route]) return CALL_NAMES[r.route];
  return r.route ?? r.path;
}

/** A token named by the path (`/array/phc_x/config.js`) or the query (`?token=`, `?api_key=`). */
export function tokenOfRequest(r: Pick<StoredRequest, 'path' | 'query'>): string | null {
  const inPath = /^\/array\/([^/]+)\/config/.exec(r.path);
  if (inPath) return decodeURIComponent(inPath[1]);
  const q = new URLSearchParams(r.query ?? '');
  return q.get('token') || q.get('api_key') || null;
}

/** The token a decoded request body names (`token` or `api_key`), if any. */
export function tokenOfBody(json: unknown): string | null {
  if (!json || typeof json !== 'object') return null;
  const o = json as Record<string, unknown>;
  for (const key of ['token', 'api_key']) if (typeof o[key] === 'string' && o[key]) return o[key] as string;
  return null;
}

/**
 * The SDKs (by source) that reached the inspector with accepted requests that carried no events.
 * Meaningful only while no event at all has arrived: once one has, the SDK works.
 */
export function sdkConnections(requests: readonly StoredRequest[]): SdkConnection[] {
  const out: SdkConnection[] = [];
  // Oldest first, so the calls read in the order the SDK made them.
  for (const r of [...requests].sort((a, b) => a.id - b.id)) {
    if (r.outcome !== 'accepted' || r.event_count > 0 || !r.source) continue;
    let c = out.find((x) => x.source === r.source);
    if (!c) out.push((c = { source: r.source, calls: [], token: null, bodyRequestId: null }));
    const name = callName(r);
    if (!c.calls.includes(name)) c.calls.push(name);
    c.token ??= tokenOfRequest(r);
    if (c.bodyRequestId === null && r.method === 'POST' && r.body_size > 0) c.bodyRequestId = r.id;
  }
  return out;
}

/**
 * Whether the connection is posthog-js: only the browser SDK loads its remote config
 * (`/array/<token>/config.js`); the server SDKs call /flags only when asked for flags.
 */
export function isPosthogJs(c: SdkConnection): boolean {
  return c.source === 'posthog' && c.calls.includes('config');
}

/** "posthog-js connected (token phc_x: /flags, config) but sent no events yet". */
export function connectionSentence(c: SdkConnection): string {
  const name = isPosthogJs(c) ? 'posthog-js' : `A ${c.source} SDK`;
  const token = c.token ? `token ${c.token}: ` : '';
  return `${name} connected (${token}${c.calls.join(', ')}) but sent no events yet`;
}
