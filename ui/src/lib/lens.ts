// The vendor lens view model: `/api/lens` turned into one column of clusters per vendor (PostHog,
// Segment, RudderStack, Mixpanel, KISSmetrics, always in that order) and the disagreements above
// them, ready to draw.

import { sourceLabel } from './sources';
import type { LensCluster, LensDisagreement, LensRefusal, LensResponse, LensVendorName } from './types';

export const LENS_VENDORS: readonly LensVendorName[] = ['posthog', 'segment', 'rudderstack', 'mixpanel', 'kissmetrics'];

const KIND_LABELS: Record<string, string> = {
  user_id: 'user id',
  anonymous_id: 'anonymous id',
  email: 'email',
  device_id: 'device id',
  distinct_id: 'distinct id',
};
/** Ids a human recognises come first in a cluster. */
const KIND_ORDER = ['user_id', 'email', 'distinct_id', 'device_id', 'anonymous_id'];

export interface LensId {
  id: string;
  kind: string | null;
  kindLabel: string | null;
}

export interface ClusterModel {
  /** Stable within a response: the vendor and the cluster's first id. */
  key: string;
  ids: LensId[];
  userId: string | null;
  /** What the cluster is called: its user id, else its first id. */
  title: string;
}

export interface ColumnModel {
  vendor: LensVendorName;
  label: string;
  /** The project setting this column's result depends on ("Mixpanel, Original ID Merge"). */
  setting: string | null;
  /** False when the server sent no entry for this vendor (told plainly, not drawn as empty). */
  present: boolean;
  clusters: ClusterModel[];
  refusals: LensRefusal[];
  idCount: number;
}

export interface Stance {
  vendor: string;
  label: string;
  together: boolean;
  sentence: string | null;
}

export interface DisagreementModel {
  key: string;
  ids: string[];
  together: { vendor: string; label: string }[];
  apart: { vendor: string; label: string }[];
  /** One line per vendor (together ones first): its stance and its explaining sentence. */
  stances: Stance[];
  seq: number | null;
}

export interface LensModel {
  project: string;
  source: string;
  family: string;
  events: number;
  /** The settings every vendor's replay ran under. */
  settings: LensResponse['settings'];
  columns: ColumnModel[];
  disagreements: DisagreementModel[];
  /** "PostHog 3 persons · Segment 2 · Mixpanel 3", for the header. */
  summary: string;
}

export function kindLabel(kind: string | null | undefined): string | null {
  if (!kind) return null;
  return KIND_LABELS[kind] ?? kind.replace(/_/g, ' ');
}

function kindRank(kind: string | null): number {
  const i = kind ? KIND_ORDER.indexOf(kind) : -1;
  return i < 0 ? KIND_ORDER.length : i;
}

export function clusterModel(vendor: string, cluster: LensCluster): ClusterModel {
  const ids = [...new Set(cluster.ids)].map((id) => {
    const kind = cluster.kinds?.[id] ?? null;
    return { id, kind, kindLabel: kindLabel(kind) };
  });
  // The user id first, then by kind (recognisable ids first), then alphabetically.
  ids.sort(
    (a, b) =>
      Number(b.id === cluster.user_id) - Number(a.id === cluster.user_id) ||
      kindRank(a.kind) - kindRank(b.kind) ||
      a.id.localeCompare(b.id),
  );
  return {
    key: `${vendor}:${ids[0]?.id ?? ''}`,
    ids,
    userId: cluster.user_id ?? null,
    title: cluster.user_id ?? ids[0]?.id ?? '(no ids)',
  };
}

/** Biggest clusters first (where the interesting merges are), then by title. */
function byInterest(a: ClusterModel, b: ClusterModel): number {
  return b.ids.length - a.ids.length || a.title.localeCompare(b.title);
}

/**
 * A vendor's sentence without its leading "Segment: " (the view already names the vendor next to
 * it). Other text is kept as it is.
 */
export function withoutVendorPrefix(sentence: string, vendor: string): string {
  const prefix = `${sourceLabel(vendor)}:`;
  return sentence.startsWith(prefix) ? sentence.slice(prefix.length).trimStart() : sentence;
}

export function disagreementModel(d: LensDisagreement, index: number): DisagreementModel {
  const tag = (vendor: string) => ({ vendor, label: sourceLabel(vendor) });
  const sentence = (vendor: string) => {
    const text = d.why?.[vendor];
    return text ? withoutVendorPrefix(text, vendor) : null;
  };
  const stance = (vendor: string, together: boolean): Stance => ({
    ...tag(vendor),
    together,
    sentence: sentence(vendor),
  });
  return {
    key: `${index}:${d.ids.join('\u0000')}`,
    ids: d.ids,
    together: d.together.map(tag),
    apart: d.apart.map(tag),
    stances: [...d.together.map((v) => stance(v, true)), ...d.apart.map((v) => stance(v, false))],
    seq: d.seq ?? null,
  };
}

export function lensModel(res: LensResponse): LensModel {
  const columns = LENS_VENDORS.map((vendor): ColumnModel => {
    const entry = res.vendors.find((v) => v.vendor === vendor);
    const clusters = (entry?.clusters ?? []).map((c) => clusterModel(vendor, c)).sort(byInterest);
    return {
      vendor,
      label: sourceLabel(vendor),
      setting: entry?.label ?? null,
      present: !!entry,
      clusters,
      refusals: [...(entry?.refusals ?? [])]
        .map((r) => ({ ...r, sentence: withoutVendorPrefix(r.sentence, vendor) }))
        .sort((a, b) => a.seq - b.seq),
      idCount: clusters.reduce((n, c) => n + c.ids.length, 0),
    };
  });
  const summary = columns
    .filter((c) => c.present)
    .map(
      (c, i) => `${c.label} ${c.clusters.length}${i === 0 ? (c.clusters.length === 1 ? ' person' : ' persons') : ''}`,
    )
    .join(' · ');
  return {
    project: res.project,
    source: res.source,
    family: res.family,
    events: res.events,
    settings: res.settings,
    columns,
    disagreements: res.disagreements.map(disagreementModel),
    summary,
  };
}

/** The index of the cluster holding `id` in a column, or -1. */
export function clusterOf(column: ColumnModel, id: string): number {
  return column.clusters.findIndex((c) => c.ids.some((x) => x.id === id));
}

/**
 * The clusters to highlight for a selected disagreement, per vendor: those holding any of its ids.
 * A vendor that keeps the ids apart gets two highlighted clusters, one that joins them gets one.
 */
export function highlightedClusters(model: LensModel, d: DisagreementModel | null): Set<string> {
  const out = new Set<string>();
  if (!d) return out;
  for (const column of model.columns) {
    for (const id of d.ids) {
      const i = clusterOf(column, id);
      if (i >= 0) out.add(column.clusters[i].key);
    }
  }
  return out;
}

/** What the empty disagreements list says: plainly that the vendors agree (or that nothing arrived). */
export function agreementSentence(model: LensModel): string {
  if (model.events === 0) return 'No events in this project yet, so there is nothing to compare.';
  return 'No disagreements: PostHog, Segment and Mixpanel put every pair of ids they share in the same person (or all keep it apart).';
}
