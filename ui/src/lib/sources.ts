// Where traffic came from: the stored `source` values, their identity family, their badge, and the
// multi-select source filter that lives in the URL as `source=segment,mixpanel`.

import type { ProjectSummary } from './types';

/**
 * Source value -> whose identity rules apply, as the server says (`GET /api/health`'s `families`,
 * from `identity_engine::Family::of_source`): the UI never keeps its own copy of that map.
 */
export type Families = Partial<Record<string, Family>>;

/** Every stored `events.source` value, in the order chips and badges list them. */
export const SOURCES = ['posthog', 'segment', 'rudderstack', 'mixpanel', 'kissmetrics'] as const;
export type Source = (typeof SOURCES)[number];

/** Whose identity rules apply: one per vendor (RudderStack speaks Segment's protocol but stitches ids its own way). */
export type Family = 'posthog' | 'segment' | 'rudderstack' | 'mixpanel' | 'kissmetrics';
export const FAMILIES: readonly Family[] = ['posthog', 'segment', 'rudderstack', 'mixpanel', 'kissmetrics'];

const LABELS: Record<Source, string> = {
  posthog: 'PostHog',
  segment: 'Segment',
  rudderstack: 'RudderStack',
  mixpanel: 'Mixpanel',
  kissmetrics: 'KISSmetrics',
};

export function isSource(value: unknown): value is Source {
  return typeof value === 'string' && (SOURCES as readonly string[]).includes(value);
}

export function isFamily(value: unknown): value is Family {
  return typeof value === 'string' && (FAMILIES as readonly string[]).includes(value);
}

export function sourceLabel(source: string): string {
  return isSource(source) ? LABELS[source] : source;
}

export function familyOf(source: string, families: Families): Family | null {
  return families[source] ?? null;
}

export interface SourceBadge {
  /** What the badge says. */
  label: string;
  /** The CSS modifier (`.source-badge.<cls>`); `unknown` for a value this UI does not know. */
  cls: Source | 'unknown';
  /** The hover text: which identity rules apply. */
  title: string;
}

/** The badge of a source value; null when there is no source to show. */
export function sourceBadge(source: string | null | undefined, families: Families): SourceBadge | null {
  if (!source) return null;
  if (!isSource(source)) return { label: source, cls: 'unknown', title: `Source ${source}` };
  const sent = `Sent by a ${LABELS[source]} SDK`;
  const family = families[source];
  if (!family) return { label: LABELS[source], cls: source, title: sent };
  const rules =
    family === source ? `${LABELS[source]} identity rules` : `${LABELS[family]} identity rules (same protocol)`;
  return { label: LABELS[source], cls: source, title: `${sent} · ${rules}` };
}

/** project -> the sources its events came from (a token may be used by several SDKs). */
export type ProjectSources = Map<string, Source[]>;

export function projectSources(projects: ProjectSummary[]): ProjectSources {
  const out: ProjectSources = new Map();
  for (const p of projects) {
    if (!isSource(p.source)) continue;
    const list = out.get(p.project) ?? [];
    if (!list.includes(p.source)) list.push(p.source);
    out.set(p.project, sortSources(list));
  }
  return out;
}

/**
 * The source of an item of a list (person, lane, finding, decision). Its own `source` when that is
 * a source value, else its `family`, else what its project's events came from. A decision's
 * `source` is the distinct id a merge started from, never a vendor, so `ownSource` is false there.
 */
export function itemSource(
  item: { project?: string; source?: string | null; family?: string | null },
  projects: ProjectSources,
  families: Families,
  ownSource = true,
): Source | null {
  if (ownSource && isSource(item.source)) return item.source;
  const ofProject = item.project ? projects.get(item.project) : undefined;
  if (isFamily(item.family)) {
    // The family alone cannot tell Segment from RudderStack: the project's own source can.
    return ofProject?.find((s) => families[s] === item.family) ?? item.family;
  }
  return ofProject?.[0] ?? null;
}

/** Sources present in the data (the project list), in chip order; only those of `project` when set. */
export function availableSources(projects: ProjectSummary[], project = ''): Source[] {
  const present = new Set(projects.filter((p) => !project || p.project === project).map((p) => p.source));
  return SOURCES.filter((s) => present.has(s));
}

function sortSources(list: Source[]): Source[] {
  return [...list].sort((a, b) => SOURCES.indexOf(a) - SOURCES.indexOf(b));
}

/** The selected sources from the URL param (`segment,mixpanel`): known values, once each, in order. */
export function parseSourceParam(value: string | undefined | null): Source[] {
  if (!value) return [];
  const picked = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(isSource);
  return sortSources([...new Set(picked)]);
}

/** The URL param for a selection; undefined (param removed) when nothing is selected. */
export function formatSourceParam(selected: readonly Source[]): string | undefined {
  return selected.length ? sortSources([...new Set(selected)]).join(',') : undefined;
}

/** The selection after clicking a chip: added when absent, removed when present. */
export function toggleSource(selected: readonly Source[], source: Source): Source[] {
  return selected.includes(source) ? selected.filter((s) => s !== source) : sortSources([...selected, source]);
}

/**
 * The chips to draw: the sources present in the data plus any still selected in the URL (so a
 * shared link's filter can be seen and removed even before that traffic exists here).
 */
export function sourceChips(
  available: readonly Source[],
  selected: readonly Source[],
): { source: Source; label: string; on: boolean }[] {
  const all = sortSources([...new Set([...available, ...selected])]);
  return all.map((source) => ({ source, label: LABELS[source], on: selected.includes(source) }));
}

/** Whether a value passes the filter (no selection lets everything through). */
export function sourceMatches(selected: readonly Source[], source: string | null | undefined): boolean {
  return selected.length === 0 || (isSource(source) && selected.includes(source));
}

/** What keys a device lane, in the vocabulary of the lane's family (its vendor's rules). */
export function laneKeyLabel(keyKind: string, family: Family | null): string {
  if (family === 'segment' || family === 'rudderstack')
    return keyKind === 'device_id' ? 'context.device.id' : 'anonymousId';
  if (family === 'mixpanel') return keyKind === 'device_id' ? '$device_id' : 'distinct_id chain';
  return keyKind === 'device_id' ? '$device_id' : 'anonymous-id chain (no $device_id)';
}
