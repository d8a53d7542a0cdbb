import { describe, expect, it } from 'vitest';
import { formatHash, parseHash, withParams } from './route';
import {
  availableSources,
  familyOf,
  formatSourceParam,
  itemSource,
  laneKeyLabel,
  parseSourceParam,
  projectSources,
  sourceBadge,
  sourceChips,
  sourceMatches,
  toggleSource,
} from './sources';
import type { ProjectSummary } from './types';

// What the server's /api/health sends as `families` (identity_engine::Family::of_source).
const FAMILIES = { posthog: 'posthog', segment: 'segment', rudderstack: 'segment', mixpanel: 'mixpanel' } as const;

const project = (name: string, source: string, events = 1): ProjectSummary => ({
  project: name,
  source,
  family: source === 'rudderstack' ? 'segment' : (source as ProjectSummary['family']),
  events,
  first_seen: '2026-11-24T12:00:00Z',
  last_seen: '2026-11-24T12:00:00Z',
  settings_label: null,
});

describe('sourceBadge / familyOf', () => {
  it('names each vendor and says whose identity rules apply', () => {
    expect(sourceBadge('posthog', FAMILIES)).toEqual({
      label: 'PostHog',
      cls: 'posthog',
      title: 'Sent by a PostHog SDK · PostHog identity rules',
    });
    expect(sourceBadge('segment', FAMILIES)?.label).toBe('Segment');
    expect(sourceBadge('mixpanel', FAMILIES)?.label).toBe('Mixpanel');
    const rudder = sourceBadge('rudderstack', FAMILIES)!;
    expect(rudder.label).toBe('RudderStack');
    expect(rudder.cls).toBe('rudderstack');
    expect(rudder.title).toContain('Segment identity rules');
  });
  it('names the vendor alone until the server has said whose rules apply', () => {
    expect(sourceBadge('rudderstack', {})).toEqual({
      label: 'RudderStack',
      cls: 'rudderstack',
      title: 'Sent by a RudderStack SDK',
    });
  });
  it('shows an unknown value as it is and nothing for a missing one', () => {
    expect(sourceBadge('amplitude', FAMILIES)).toEqual({
      label: 'amplitude',
      cls: 'unknown',
      title: 'Source amplitude',
    });
    expect(sourceBadge(null, FAMILIES)).toBeNull();
    expect(sourceBadge('', FAMILIES)).toBeNull();
  });
  it('maps RudderStack to the Segment family', () => {
    expect(familyOf('rudderstack', FAMILIES)).toBe('segment');
    expect(familyOf('segment', FAMILIES)).toBe('segment');
    expect(familyOf('mixpanel', FAMILIES)).toBe('mixpanel');
    expect(familyOf('posthog', FAMILIES)).toBe('posthog');
    expect(familyOf('nope', FAMILIES)).toBeNull();
  });
});

describe('the source filter param', () => {
  it('parses a comma list: known values only, once each, in chip order', () => {
    expect(parseSourceParam('mixpanel, Segment,bogus,segment')).toEqual(['segment', 'mixpanel']);
    expect(parseSourceParam('')).toEqual([]);
    expect(parseSourceParam(undefined)).toEqual([]);
  });
  it('formats a selection and removes the param when nothing is selected', () => {
    expect(formatSourceParam(['mixpanel', 'posthog'])).toBe('posthog,mixpanel');
    expect(formatSourceParam([])).toBeUndefined();
  });
  it('toggles chips on and off', () => {
    expect(toggleSource([], 'mixpanel')).toEqual(['mixpanel']);
    expect(toggleSource(['mixpanel'], 'posthog')).toEqual(['posthog', 'mixpanel']);
    expect(toggleSource(['posthog', 'mixpanel'], 'posthog')).toEqual(['mixpanel']);
  });
  it('survives the URL round trip and is removed from it when the last chip goes off', () => {
    let params = withParams(
      { project: 'k' },
      { source: formatSourceParam(toggleSource(parseSourceParam(undefined), 'segment')) },
    );
    params = withParams(params, {
      source: formatSourceParam(toggleSource(parseSourceParam(params.source), 'rudderstack')),
    });
    const hash = formatHash({ view: 'persons', params });
    expect(hash).toBe('#/persons?project=k&source=segment%2Crudderstack');
    expect(parseSourceParam(parseHash(hash).params.source)).toEqual(['segment', 'rudderstack']);
    params = withParams(params, { source: formatSourceParam([]) });
    expect(formatHash({ view: 'persons', params })).toBe('#/persons?project=k');
  });
  it('matches everything with no selection, else only the selected sources', () => {
    expect(sourceMatches([], 'posthog')).toBe(true);
    expect(sourceMatches([], null)).toBe(true);
    expect(sourceMatches(['segment'], 'segment')).toBe(true);
    expect(sourceMatches(['segment'], 'rudderstack')).toBe(false);
    expect(sourceMatches(['segment'], null)).toBe(false);
  });
});

describe('sources in the data', () => {
  const projects = [
    project('phc_a', 'posthog'),
    project('wk', 'rudderstack'),
    project('mp', 'mixpanel'),
    project('phc_a', 'segment'),
  ];
  it('lists only the sources present, in chip order, optionally for one project', () => {
    expect(availableSources(projects)).toEqual(['posthog', 'segment', 'rudderstack', 'mixpanel']);
    expect(availableSources([project('mp', 'mixpanel')])).toEqual(['mixpanel']);
    expect(availableSources(projects, 'phc_a')).toEqual(['posthog', 'segment']);
    expect(availableSources([])).toEqual([]);
  });
  it('draws chips for present sources plus any still selected in the URL', () => {
    expect(sourceChips(['posthog'], ['mixpanel'])).toEqual([
      { source: 'posthog', label: 'PostHog', on: false },
      { source: 'mixpanel', label: 'Mixpanel', on: true },
    ]);
  });
  it("finds an item's source: its own, else its family resolved by its project, else its project's", () => {
    const known = projectSources(projects);
    expect(known.get('phc_a')).toEqual(['posthog', 'segment']);
    expect(itemSource({ project: 'x', source: 'mixpanel' }, known, FAMILIES)).toBe('mixpanel');
    expect(itemSource({ project: 'wk', family: 'segment' }, known, FAMILIES)).toBe('rudderstack');
    expect(itemSource({ project: 'unknown', family: 'segment' }, known, FAMILIES)).toBe('segment');
    expect(itemSource({ project: 'mp' }, known, FAMILIES)).toBe('mixpanel');
    expect(itemSource({ project: 'nowhere' }, known, FAMILIES)).toBeNull();
  });
  it("never reads a decision's source (the merge's source id) as a vendor", () => {
    const known = projectSources(projects);
    expect(itemSource({ project: 'mp', source: 'segment' }, known, FAMILIES, false)).toBe('mixpanel');
  });
});

describe('laneKeyLabel', () => {
  it("names a lane's key as its vendor does", () => {
    expect(laneKeyLabel('device_id', 'posthog')).toBe('$device_id');
    expect(laneKeyLabel('anonymous_id', null)).toBe('anonymous-id chain (no $device_id)');
    expect(laneKeyLabel('device_id', 'segment')).toBe('context.device.id');
    expect(laneKeyLabel('anonymous_id', 'segment')).toBe('anonymousId');
    expect(laneKeyLabel('device_id', 'mixpanel')).toBe('$device_id');
  });
});
