import { describe, expect, it } from 'vitest';
import { agreementSentence, clusterOf, highlightedClusters, lensModel, withoutVendorPrefix } from './lens';
import type { LensResponse } from './types';

/** A Segment-first user whose second user id PostHog merges but Segment refuses. */
const response: LensResponse = {
  project: 'wk_1',
  settings_labels: [],
  source: 'segment',
  family: 'segment',
  events: 9,
  settings: {
    mixpanel_id_merge: 'simplified',
    segment_blocked_values: false,
    segment_identifier_limits: {},
    posthog_cookieless: 'stateful',
  },
  vendors: [
    // Deliberately out of order and without Mixpanel's entry being first.
    {
      vendor: 'segment',
      label: null,
      clusters: [
        {
          ids: ['anon-1', 'alice', 'a@example.com'],
          user_id: 'alice',
          kinds: { 'anon-1': 'anonymous_id', alice: 'user_id', 'a@example.com': 'email' },
        },
        { ids: ['bob'], user_id: 'bob', kinds: { bob: 'user_id' } },
      ],
      refusals: [
        {
          seq: 7,
          ids: ['alice', 'bob'],
          rule: 'user_id_limit',
          sentence: 'Segment: profile already has user_id alice (limit 1).',
        },
      ],
    },
    {
      vendor: 'posthog',
      label: null,
      clusters: [{ ids: ['anon-1', 'alice', 'bob'], user_id: null, kinds: {} }],
      refusals: [],
    },
    {
      vendor: 'mixpanel',
      label: 'Mixpanel, Simplified ID Merge',
      clusters: [
        { ids: ['anon-1', 'alice'], user_id: 'alice', kinds: {} },
        { ids: ['bob'], user_id: 'bob', kinds: {} },
      ],
      refusals: [],
    },
  ],
  disagreements: [
    {
      ids: ['alice', 'bob'],
      together: ['posthog'],
      apart: ['segment', 'mixpanel'],
      seq: 7,
      two_user_ids: false,
      why: {
        posthog: 'PostHog: $identify merged bob into alice.',
        segment: 'Segment: profile already has user_id alice (limit 1).',
      },
    },
  ],
};

describe('lensModel', () => {
  const model = lensModel(response);

  it('always has a column per vendor, in one order, with the setting each result depends on', () => {
    expect(model.columns.map((c) => [c.vendor, c.label, c.present, c.setting])).toEqual([
      ['posthog', 'PostHog', true, null],
      ['segment', 'Segment', true, null],
      ['rudderstack', 'RudderStack', false, null],
      ['mixpanel', 'Mixpanel', true, 'Mixpanel, Simplified ID Merge'],
      ['kissmetrics', 'KISSmetrics', false, null],
    ]);
    expect(model.summary).toBe('PostHog 1 person · Segment 2 · Mixpanel 2');
  });

  it('puts big clusters first and the user id, then recognisable ids, first inside a cluster', () => {
    const segment = model.columns[1];
    expect(segment.clusters.map((c) => c.title)).toEqual(['alice', 'bob']);
    expect(segment.clusters[0].ids.map((i) => [i.id, i.kindLabel])).toEqual([
      ['alice', 'user id'],
      ['a@example.com', 'email'],
      ['anon-1', 'anonymous id'],
    ]);
    expect(segment.idCount).toBe(4);
    expect(model.columns[0].clusters[0].ids.map((i) => i.kind)).toEqual([null, null, null]);
    expect(segment.refusals[0]).toMatchObject({ seq: 7, sentence: 'profile already has user_id alice (limit 1).' });
  });

  it('turns each disagreement into who joins, who keeps apart, and why', () => {
    const [d] = model.disagreements;
    expect(d.ids).toEqual(['alice', 'bob']);
    expect(d.together.map((t) => t.label)).toEqual(['PostHog']);
    expect(d.apart.map((t) => t.label)).toEqual(['Segment', 'Mixpanel']);
    expect(d.stances).toEqual([
      { vendor: 'posthog', label: 'PostHog', together: true, sentence: '$identify merged bob into alice.' },
      {
        vendor: 'segment',
        label: 'Segment',
        together: false,
        sentence: 'profile already has user_id alice (limit 1).',
      },
      { vendor: 'mixpanel', label: 'Mixpanel', together: false, sentence: null },
    ]);
    expect(d.seq).toBe(7);
  });

  it('highlights one cluster where the ids are together and two where they are apart', () => {
    const marked = highlightedClusters(model, model.disagreements[0]);
    expect([...marked].sort()).toEqual([
      'mixpanel:alice',
      'mixpanel:bob',
      'posthog:alice',
      'segment:alice',
      'segment:bob',
    ]);
    expect(highlightedClusters(model, null).size).toBe(0);
    expect(clusterOf(model.columns[3], 'bob')).toBe(1);
    expect(clusterOf(model.columns[3], 'nobody')).toBe(-1);
  });

  it('marks a vendor the server did not send as absent instead of inventing clusters', () => {
    const partial = lensModel({
      ...response,
      vendors: response.vendors.filter((v) => v.vendor !== 'mixpanel'),
      disagreements: [],
    });
    expect(partial.columns[3]).toMatchObject({ vendor: 'mixpanel', present: false, clusters: [] });
    expect(partial.summary).toBe('PostHog 1 person · Segment 2');
  });
});

describe('withoutVendorPrefix', () => {
  it("drops only the vendor's own leading name", () => {
    expect(withoutVendorPrefix('Mixpanel: alice already has a $user_id.', 'mixpanel')).toBe(
      'alice already has a $user_id.',
    );
    expect(withoutVendorPrefix('Segment: x', 'mixpanel')).toBe('Segment: x');
    expect(withoutVendorPrefix('merged because', 'posthog')).toBe('merged because');
  });
});

describe('agreementSentence', () => {
  it('says plainly that the vendors agree, or that there is nothing yet', () => {
    expect(agreementSentence(lensModel({ ...response, disagreements: [] }))).toMatch(/^No disagreements/);
    expect(agreementSentence(lensModel({ ...response, events: 0, vendors: [], disagreements: [] }))).toMatch(
      /^No events/,
    );
  });
});
