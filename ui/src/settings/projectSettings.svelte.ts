// The project settings panel's state: which project it edits, the stored settings, the edits not
// yet saved, and saving them (`PUT /api/projects/{key}/settings` with the control token).
//
// Invariants:
// - `draft` starts as a copy of what the server answered; `save` sends only the fields that differ
//   (the server keeps the others), and the answer replaces both, so `dirty` is false after a save.
// - One load at a time: opening another project while a load runs drops the older answer.
// - The server announces the change on the stream, which refreshes every view; the panel does not
//   refresh them itself.

import type { FamilyLabel, ProjectSettings, ProjectSettingsResponse } from '../lib/gen';
import { defaultLimit } from './words';

/** What the state needs from `/api` (`api.projectSettings` / `api.control.setProjectSettings`). */
export interface SettingsApi {
  get(project: string): Promise<ProjectSettingsResponse>;
  put(project: string, changes: Partial<ProjectSettings>): Promise<ProjectSettingsResponse>;
}

function copy(s: ProjectSettings): ProjectSettings {
  return { ...s, segment_identifier_limits: { ...s.segment_identifier_limits } };
}

function sameLimits(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** The fields of `draft` that differ from `saved`. */
export function changes(saved: ProjectSettings, draft: ProjectSettings): Partial<ProjectSettings> {
  const out: Partial<ProjectSettings> = {};
  if (draft.mixpanel_id_merge !== saved.mixpanel_id_merge) out.mixpanel_id_merge = draft.mixpanel_id_merge;
  if (draft.posthog_cookieless !== saved.posthog_cookieless) out.posthog_cookieless = draft.posthog_cookieless;
  if (draft.segment_blocked_values !== saved.segment_blocked_values)
    out.segment_blocked_values = draft.segment_blocked_values;
  if (!sameLimits(draft.segment_identifier_limits, saved.segment_identifier_limits))
    out.segment_identifier_limits = { ...draft.segment_identifier_limits };
  return out;
}

export class ProjectSettingsState {
  open = $state(false);
  project = $state('');
  saved = $state.raw<ProjectSettingsResponse | null>(null);
  draft = $state<ProjectSettings | null>(null);
  loading = $state(false);
  saving = $state(false);
  error = $state('');

  dirty = $derived(
    this.saved !== null && this.draft !== null && Object.keys(changes(this.saved.settings, this.draft)).length > 0,
  );
  labels = $derived<FamilyLabel[]>(this.saved?.labels ?? []);

  private loads = 0;

  constructor(private readonly api: SettingsApi) {}

  /** Opens the panel on `project` and loads its settings; with no key, waits for one. */
  async openFor(project: string): Promise<void> {
    this.project = project;
    this.open = true;
    this.error = '';
    if (!project) {
      this.loads++;
      this.saved = null;
      this.draft = null;
      this.loading = false;
      return;
    }
    await this.load();
  }

  close() {
    this.open = false;
  }

  async load(): Promise<void> {
    const project = this.project;
    const n = ++this.loads;
    this.loading = true;
    try {
      const answer = await this.api.get(project);
      if (n !== this.loads) return;
      this.saved = answer;
      this.draft = copy(answer.settings);
    } catch (e) {
      if (n === this.loads) this.error = e instanceof Error ? e.message : String(e);
    } finally {
      if (n === this.loads) this.loading = false;
    }
  }

  /** The limit shown for `identifier`: the project's own, else Unify's default. */
  limit(identifier: string): number {
    return this.draft?.segment_identifier_limits[identifier] ?? defaultLimit(identifier);
  }

  /** Sets a limit; the default value removes the override (the server stores only overrides). */
  setLimit(identifier: string, value: number) {
    if (!this.draft || !identifier.trim() || !Number.isInteger(value) || value < 1) return;
    const limits = { ...this.draft.segment_identifier_limits };
    if (value === defaultLimit(identifier)) delete limits[identifier];
    else limits[identifier] = value;
    this.draft.segment_identifier_limits = limits;
  }

  /** Saves the changed fields; returns whether the server took them. */
  async save(): Promise<boolean> {
    if (!this.saved || !this.draft) return false;
    const body = changes(this.saved.settings, this.draft);
    if (Object.keys(body).length === 0) return true;
    this.saving = true;
    this.error = '';
    try {
      const answer = await this.api.put(this.project, body);
      this.saved = answer;
      this.draft = copy(answer.settings);
      return true;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      return false;
    } finally {
      this.saving = false;
    }
  }

  /** Drops unsaved edits. */
  revert() {
    if (this.saved) this.draft = copy(this.saved.settings);
  }
}
