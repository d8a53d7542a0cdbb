import { describe, expect, it } from 'vitest';
import { formatHash, globalParams, parseHash, withParams } from './route';

describe('parseHash', () => {
  it('maps an empty hash to the start view', () => {
    expect(parseHash('')).toEqual({ view: 'start', params: {} });
    expect(parseHash('#/')).toEqual({ view: 'start', params: {} });
  });

  it('reads the view and its params', () => {
    expect(parseHash('#/events?project=phc_a&event=%24pageview&q=hello%20world')).toEqual({
      view: 'events',
      params: { project: 'phc_a', event: '$pageview', q: 'hello world' },
    });
  });

  it('reads a person id from #/persons/<id>', () => {
    const r = parseHash('#/persons/0190a1b2-0000-7000-8000-000000000001?project=p');
    expect(r.view).toBe('person');
    expect(r.id).toBe('0190a1b2-0000-7000-8000-000000000001');
    expect(r.params).toEqual({ project: 'p' });
  });

  it('reads the vendor lens route', () => {
    expect(parseHash('#/lens?project=wk_1')).toEqual({ view: 'lens', params: { project: 'wk_1' } });
    expect(formatHash({ view: 'lens', params: { project: 'wk_1' } })).toBe('#/lens?project=wk_1');
  });

  it('drops empty params and falls back to start for unknown views', () => {
    expect(parseHash('#/nope?x=')).toEqual({ view: 'start', params: {} });
  });
});

describe('formatHash', () => {
  it('round-trips through parseHash, with sorted keys', () => {
    const route = { view: 'devices' as const, params: { project: 'phc', focus: 'phc/dev 1', order: 'arrival' } };
    const hash = formatHash(route);
    expect(hash).toBe('#/devices?focus=phc%2Fdev+1&order=arrival&project=phc');
    expect(parseHash(hash)).toEqual(route);
  });

  it('encodes person ids and omits empty values', () => {
    expect(formatHash({ view: 'person', id: 'a/b', params: { q: '' } })).toBe('#/persons/a%2Fb');
    expect(parseHash('#/persons/a%2Fb').id).toBe('a/b');
    expect(formatHash({ view: 'start', params: {} })).toBe('#/');
  });
});

describe('withParams / globalParams', () => {
  it('sets, replaces and removes keys without touching the input', () => {
    const before = { project: 'p', q: 'x' };
    expect(withParams(before, { q: '', event: 'e', limit: 5 })).toEqual({ project: 'p', event: 'e', limit: '5' });
    expect(before).toEqual({ project: 'p', q: 'x' });
  });

  it('keeps only the params that follow the user across views', () => {
    expect(globalParams({ project: 'p', q: 'x', focus: 'f' })).toEqual({ project: 'p' });
    expect(globalParams({ project: 'p', source: 'segment,mixpanel', q: 'x' })).toEqual({
      project: 'p',
      source: 'segment,mixpanel',
    });
  });
});
