// The shapes /api answers with (README, "API"). Times are RFC 3339 UTC strings.

export interface StoredEvent {
  uuid: string;
  project: string;
  source: string;
  event: string;
  distinct_id: string;
  device_id: string | null;
  session_id: string | null;
  timestamp: string;
  original_timestamp: string | null;
  sent_at: string | null;
  received_at: string;
  seq: number;
  request_id: number;
  properties: Record<string, unknown>;
  warnings: string[] | null;
}

export interface StoredRequest {
  id: number;
  method: string;
  path: string;
  query: string | null;
  received_at: string;
  source: string | null;
  route: string | null;
  outcome: 'accepted' | 'rejected';
  status: number;
  error: string | null;
  error_code: string | null;
  event_count: number;
  note: string | null;
  body_size: number;
  body_preview: string;
}

export interface RequestDetail {
  request: StoredRequest & { headers: [string, string][]; event_uuids: string[] };
  body_base64: string;
  decoded: { steps: string[]; json: unknown } | { error: string } | null;
}

export interface ProjectSummary {
  project: string;
  source: string;
  events: number;
  first_seen: string;
  last_seen: string;
}

export interface Health {
  status: string;
  version: string;
  capture_url: string;
  started_at: string;
  totals: { events: number; requests: number; rejected: number };
  /** Paused capture answers SDKs as usual but stores nothing (desktop menu, tray or /api/control). */
  capture?: { paused: boolean; ignored_while_paused: number };
  /** This run's notices: port taken, network exposure, settings problems. */
  notices?: { level: 'info' | 'warning'; code: string; message: string }[];
}

export interface EventRef {
  seq: number;
  event_uuid: string;
  event: string;
  timestamp: string;
}

/**
 * Persons, lanes and findings carry the source of their project's events and its identity family
 * (optional: a server from before Segment and Mixpanel support sends neither).
 */
export interface SourceTagged {
  source?: string | null;
  family?: string | null;
}

export interface PersonSummary extends SourceTagged {
  id: string;
  project: string;
  distinct_ids: string[];
  is_identified: boolean;
  properties: Record<string, unknown>;
  created_at: string;
}

export type ChangeOp = 'set' | 'set_once' | 'unset' | 'merge_lost' | 'merge_adopted';

export interface PropertyChange {
  key: string;
  op: ChangeOp;
  old: unknown;
  new: unknown;
  by: EventRef;
}

export interface MergedPerson {
  id: string;
  distinct_ids: string[];
  is_identified: boolean;
  created_at: string;
  by: EventRef;
}

export type DecisionKind = 'merged' | 'attached' | 'created' | 'refused' | 'ignored' | 'dropped';

export interface Decision {
  seq: number;
  event_uuid: string;
  project: string;
  event: string;
  kind: DecisionKind;
  rule: string;
  source: string | null;
  target: string | null;
  person_id: string | null;
  message: string;
  /** The identity family whose rule decided (`source` above is the merge's source id). */
  family?: string | null;
}

export interface PersonDetail extends PersonSummary {
  identified_by: EventRef | null;
  created_by: EventRef;
  property_origins: Record<string, { by: EventRef; op: ChangeOp }>;
  history: PropertyChange[];
  merged_from: MergedPerson[];
  decisions: Decision[];
  devices: string[];
}

export interface Segment {
  distinct_id: string;
  /** The person PostHog wrote on the segment's events at the time. */
  person_id: string | null;
  /** The person the id belongs to now (after later merges). */
  current_person_id?: string | null;
  identified: boolean;
  first_seq: number;
  last_seq: number;
  first_timestamp: string;
  last_timestamp: string;
  event_count: number;
}

export type TransitionKind = 'identify' | 'alias' | 'reset' | 'reset_device' | 'switch_without_reset' | 'set';

export interface Transition {
  kind: TransitionKind | string;
  seq: number;
  event_uuid: string | null;
  timestamp: string;
  from: string | null;
  to: string | null;
  inferred: boolean;
  explanation: string;
}

export interface SessionSpan {
  session_id: string;
  first_seq: number;
  last_seq: number;
  first_timestamp: string;
  last_timestamp: string;
  event_count: number;
}

export interface DeviceLane extends SourceTagged {
  id: string;
  project: string;
  device_id: string;
  key_kind: 'device_id' | 'anonymous_id' | string;
  first_seen: string;
  last_seen: string;
  first_seq: number;
  last_seq: number;
  event_count: number;
  user_agent: string | null;
  segments: Segment[];
  transitions: Transition[];
  sessions: SessionSpan[];
  linked_from: { lane_id: string; evidence: string; inferred: boolean } | null;
}

export interface DevicesPage {
  devices: DeviceLane[];
  total: number;
  next_cursor: string | null;
  range: { first_seen: string; last_seen: string; first_seq: number; last_seq: number } | null;
}

export interface Finding extends SourceTagged {
  rule: string;
  severity: 'error' | 'warning' | 'info' | string;
  project: string;
  message: string;
  fix: string;
  event_uuids: string[];
  distinct_ids: string[];
  device_ids: string[];
  seq: number;
}

/** `/api/stream` announcements. */
export type StreamMessage =
  | { type: 'ready'; capture_url: string }
  | { type: 'events'; request_id: number; project: string; source: string; count: number; first_seq: number; last_seq: number }
  | { type: 'rejected'; request_id: number; method: string; path: string; status: number; error: string }
  | { type: 'persons'; ids: string[]; applied_seq: number }
  | { type: 'devices'; ids: string[]; applied_seq: number }
  | { type: 'warnings'; new: number; applied_seq: number }
  | { type: 'lagged'; skipped: number }
  | { type: 'pruned'; events: number; requests: number; all: boolean }
  | { type: 'imported'; dataset: string; requests: number; events: number };

/** `GET /api/lens?project=`: how PostHog, Segment and Mixpanel would each group the project's ids. */
export type LensVendorName = 'posthog' | 'segment' | 'mixpanel';

export type LensIdKind = 'user_id' | 'anonymous_id' | 'email' | 'device_id' | 'distinct_id';

export interface LensCluster {
  /** Plain identifier strings as the vendor sees them, comparable across vendors. */
  ids: string[];
  user_id: string | null;
  kinds?: Record<string, LensIdKind | string>;
}

export interface LensRefusal {
  seq: number;
  ids: string[];
  rule: string;
  sentence: string;
}

export interface LensVendor {
  vendor: LensVendorName | string;
  clusters: LensCluster[];
  refusals: LensRefusal[];
}

export interface LensDisagreement {
  ids: string[];
  together: string[];
  apart: string[];
  /** The event that linked the ids for the vendors that put them together. */
  seq: number | null;
  why: Record<string, string>;
}

export interface LensResponse {
  project: string;
  source: string;
  family: string;
  events: number;
  vendors: LensVendor[];
  disagreements: LensDisagreement[];
}
