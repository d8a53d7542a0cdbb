import { describe, expect, it } from 'vitest';
import type { ProjectSettings, ProjectSettingsResponse } from '../lib/gen';
import { changes, ProjectSettingsState, type SettingsApi } from './projectSettings.svelte';

const DEFAULTS: ProjectSettings = {
  mixpanel_id_merge: 'simplified',
  posthog_cookieless: 'stateful',
  segment_blocked_values: false,
  segment_identifier_limits: {},
};

function label(s: ProjectSettings) {
  return [
    { family: 'segment' as const, label: `Segment, blocked values ${s.segment_blocked_values ? 'on' : 'off'}` },
    {
      family: 'mixpanel' as const,
      label: `Mixpanel, ${s.mixpanel_id_merge === 'original' ? 'Original' : 'Simplified'} ID Merge`,
    },
  ];
}

/** A server that keeps settings per project and applies partial bodies as the real one does. */
function fakeApi() {
  const stored = new Map<string, ProjectSettings>();
  const puts: Partial<ProjectSettings>[] = [];
  const answer = (project: string, configured: boolean): ProjectSettingsResponse => {
    const settings = stored.get(project) ?? DEFAULTS;
    return { project, settings, configured, labels: label(settings) };
  };
  const api: SettingsApi = {
    get: async (project) => answer(project, stored.has(project)),
    put: async (project, body) => {
      if (body.mixpanel_id_merge && !['simplified', 'original'].includes(body.mixpanel_id_merge))
        throw new Error('`mixpanel_id_merge` must be "simplified" or "original"');
      puts.push(body);
      stored.set(project, { ...(stored.get(project) ?? DEFAULTS), ...body });
      return answer(project, true);
    },
  };
  return { api, puts, stored };
}

describe('ProjectSettingsState', () => {
  it('loads the defaults of a project never configured, then saves only what changed', async () => {
    const { api, puts } = fakeApi();
    const state = new ProjectSettingsState(api);
    await state.openFor('mp_1');
    expect(state.open).toBe(true);
    expect(state.saved?.configured).toBe(false);
    expect(state.draft?.mixpanel_id_merge).toBe('simplified');
    expect(state.dirty).toBe(false);

    state.draft!.mixpanel_id_merge = 'original';
    expect(state.dirty).toBe(true);
    expect(await state.save()).toBe(true);
    expect(puts).toEqual([{ mixpanel_id_merge: 'original' }]);
    expect(state.dirty).toBe(false);
    expect(state.labels.find((l) => l.family === 'mixpanel')?.label).toBe('Mixpanel, Original ID Merge');
  });

  it('keeps identifier limits as overrides of the defaults (1 user_id, 5 others)', async () => {
    const { api, puts } = fakeApi();
    const state = new ProjectSettingsState(api);
    await state.openFor('wk');
    expect([state.limit('user_id'), state.limit('email')]).toEqual([1, 5]);
    state.setLimit('email', 2);
    state.setLimit('user_id', 1); // the default: no override
    state.setLimit('email', 0); // refused: a limit is at least 1
    expect(state.draft?.segment_identifier_limits).toEqual({ email: 2 });
    await state.save();
    expect(puts).toEqual([{ segment_identifier_limits: { email: 2 } }]);
    state.setLimit('email', 5);
    expect(state.draft?.segment_identifier_limits).toEqual({});
    expect(state.dirty).toBe(true);
  });

  it('shows the server refusal and keeps the edit', async () => {
    const { api } = fakeApi();
    const state = new ProjectSettingsState(api);
    await state.openFor('k');
    state.draft!.mixpanel_id_merge = 'guess' as ProjectSettings['mixpanel_id_merge'];
    expect(await state.save()).toBe(false);
    expect(state.error).toContain('mixpanel_id_merge');
    expect(state.dirty).toBe(true);
    state.revert();
    expect(state.dirty).toBe(false);
  });

  it('drops the answer of a load superseded by another project', async () => {
    let release!: () => void;
    const slow: SettingsApi = {
      get: (project) =>
        project === 'slow'
          ? new Promise((resolve) => {
              release = () => resolve({ project, settings: DEFAULTS, configured: false, labels: [] });
            })
          : Promise.resolve({
              project,
              settings: { ...DEFAULTS, segment_blocked_values: true },
              configured: true,
              labels: [],
            }),
      put: async () => {
        throw new Error('unused');
      },
    };
    const state = new ProjectSettingsState(slow);
    const first = state.openFor('slow');
    await state.openFor('fast');
    release();
    await first;
    expect(state.saved?.project).toBe('fast');
    expect(state.loading).toBe(false);
  });

  it('sends nothing when nothing changed', () => {
    expect(changes(DEFAULTS, { ...DEFAULTS, segment_identifier_limits: {} })).toEqual({});
  });
});
