// The shapes /api answers with come from the server's Rust types, generated into ./gen
// (cargo test -p inspector-server --features ts --test gen_types). This file names them as the
// UI uses them and keeps the few types that exist only on the UI side. Times are RFC 3339 UTC strings.

import type {
  Cluster,
  Decision as EngineDecision,
  DecisionItem,
  Disagreement,
  Family,
  FindingItem,
  IdKind,
  ProjectItem,
  Refusal,
  RequestResponse,
  VendorView,
} from './gen';

export type {
  Attempt,
  ChangeOp,
  DeliveriesPage,
  Delivery,
  DeliveryState,
  FaultsPage,
  FaultView,
  FindingGroup,
  FindingVariant,
  WarningGroupsPage,
  DeviceLane,
  Segment,
  LaneKey,
  LintRule,
  Severity,
  TransitionKind,
  DecisionKind,
  DecisionPill,
  DevicesPage,
  ErrorBody,
  ErrorCode,
  EventRef,
  Family,
  Health,
  LensResponse,
  MergedPerson,
  MixpanelIdMerge,
  PersonDetail,
  PersonSummary,
  ProjectSettings,
  ProjectSettingsResponse,
  PropertyChange,
  SessionSpan,
  StoredEvent,
  StoredRequest,
  Transition,
} from './gen';

/** `GET /api/requests/{id}`: the request with its headers, raw body and decoded JSON. */
export type RequestDetail = RequestResponse;

/** A project with the identity family whose rules apply to it (`GET /api/projects`). */
export type ProjectSummary = ProjectItem;

/**
 * A decision. In `GET /api/decisions` it carries its project's source (`project_source`; its own
 * `source` is the id merged away) and family; in a person's detail it does not.
 */
export type Decision = EngineDecision & Partial<Pick<DecisionItem, 'project_source' | 'family'>>;

export type Finding = FindingItem;

/** `/api/stream` announcements. */
export type StreamMessage =
  | { type: 'ready'; capture_url: string }
  | {
      type: 'events';
      request_id: number;
      project: string;
      source: string;
      count: number;
      first_seq: number;
      last_seq: number;
    }
  | { type: 'rejected'; request_id: number; method: string; path: string; status: number; error: string }
  | {
      type: 'faulted';
      request_id: number;
      method: string;
      path: string;
      status: number;
      error: string;
      events: number;
    }
  | { type: 'faults'; active: number; revision: number }
  | { type: 'persons'; ids: string[]; more: boolean; applied_seq: number; replay: number }
  | { type: 'devices'; ids: string[]; more: boolean; applied_seq: number; replay: number }
  | { type: 'warnings'; new: number; applied_seq: number; replay: number }
  | { type: 'lagged'; skipped: number }
  | { type: 'pruned'; events: number; requests: number; all: boolean }
  | { type: 'project_deleted'; project: string; events: number; requests: number }
  | { type: 'imported'; dataset: string; requests: number; events: number }
  | { type: 'settings'; project: string };

/** `GET /api/lens?project=`: how PostHog, Segment and Mixpanel would each group the project's ids. */
export type LensVendorName = Family;

export type LensIdKind = IdKind;

export type LensCluster = Cluster;

export type LensRefusal = Refusal;

export type LensVendor = VendorView;

export type LensDisagreement = Disagreement;
