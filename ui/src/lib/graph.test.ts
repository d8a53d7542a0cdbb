import { describe, expect, it } from 'vitest';
import { eventTimes, idOverflows, layoutGraph, nodeName } from './graph';
import type { Decision, PersonDetail } from './types';

function d(
  seq: number,
  kind: Decision['kind'],
  source: string | null,
  target: string | null,
  event = '$identify',
): Decision {
  return {
    seq,
    event_uuid: `e${seq}`,
    timestamp: '2026-11-24T12:00:00Z',
    project: 'p',
    event,
    kind,
    rule: 'same_person',
    source,
    target,
    person_id: 'P',
    message: `${kind} ${seq}`,
  };
}

describe('layoutGraph', () => {
  const person = {
    distinct_ids: ['anon-1', 'alice', 'anon-2'],
    decisions: [
      d(1, 'created', null, null, '$pageview'),
      d(2, 'merged', 'anon-1', 'alice'),
      d(3, 'ignored', 'anon-1', 'alice'),
      d(4, 'attached', 'anon-2', 'alice'),
      d(5, 'refused', 'bob', 'alice', '$create_alias'),
      d(6, 'merged', 'anon-1', 'alice'),
    ],
  };

  it('draws one node per id, the refused id as external', () => {
    const g = layoutGraph(person, 2000);
    expect(g.nodes.map((n) => [n.id, n.external, n.first])).toEqual([
      ['anon-1', false, true],
      ['alice', false, false],
      ['anon-2', false, false],
      ['bob', true, false],
    ]);
    // one row when it fits
    expect(new Set(g.nodes.map((n) => n.y)).size).toBe(1);
    expect(g.hidden).toBe(0);
  });

  it('joins ids with one edge per decision pair, refused ones apart, repeats counted', () => {
    const g = layoutGraph(person, 2000);
    expect(g.edges.map((e) => [e.from, e.to, e.refused, e.count, e.decision.seq])).toEqual([
      ['anon-1', 'alice', false, 2, 2],
      ['anon-2', 'alice', false, 1, 4],
      ['bob', 'alice', true, 1, 5],
    ]);
    // neighbours: straight; anon-2 -> alice skips no node (index 2 -> 1): straight too; bob (3) -> alice (1) arcs
    expect(g.edges[0].path).toBe(
      `M ${g.nodes[0].x} ${g.nodes[0].y} Q ${(g.nodes[0].x + g.nodes[1].x) / 2} ${g.nodes[0].y} ${g.nodes[1].x} ${g.nodes[1].y}`,
    );
    expect(g.edges[2].labelY).toBeLessThan(g.nodes[0].y);
    expect(g.edges[0].labelY).toBe(g.nodes[0].y - 14); // above a straight edge
  });

  it('arcs a refused merge between neighbours above the row', () => {
    const g = layoutGraph(
      { distinct_ids: ['a', 'b'], decisions: [d(1, 'merged', 'a', 'b'), d(2, 'refused', 'c', 'b')] },
      2000,
    );
    // c is external, drawn third: neighbour of b
    const refused = g.edges.find((e) => e.refused)!;
    const b = g.nodes.find((n) => n.id === 'b')!;
    expect(refused.labelY).toBe(b.y - 34);
    expect(refused.path).toContain(`Q ${(b.x + g.nodes[2].x) / 2} ${b.y - 68}`);
  });

  it('wraps into rows on a narrow width and caps very large persons', () => {
    const many = { distinct_ids: Array.from({ length: 100 }, (_, i) => `id-${i}`), decisions: [] };
    const g = layoutGraph(many, 800, 10);
    expect(g.nodes.length).toBe(10);
    expect(g.hidden).toBe(90);
    expect(new Set(g.nodes.map((n) => n.x)).size).toBe(2); // two columns fit in 800 px
    expect(g.height).toBeGreaterThan(4 * 100);
  });
});

describe('eventTimes', () => {
  it('collects timestamps of every referenced event', () => {
    const ref = (u: string, t: string) => ({ seq: 1, event_uuid: u, event: 'x', timestamp: t });
    const p = {
      created_by: ref('a', 'T1'),
      identified_by: ref('b', 'T2'),
      history: [{ key: 'k', op: 'set', old: null, new: 1, by: ref('c', 'T3') }],
      merged_from: [{ id: 'm', distinct_ids: [], is_identified: false, created_at: '', by: ref('b', 'T9') }],
      property_origins: { k: { by: ref('d', 'T4'), op: 'set' } },
    } as unknown as PersonDetail;
    expect(Object.fromEntries(eventTimes(p))).toEqual({ a: 'T1', b: 'T2', c: 'T3', d: 'T4' });
  });
});

describe('graph node ids', () => {
  const uuid = '0192a000-0000-7000-8000-000000000001';
  it('names a node by its whole id first, then what it is and does', () => {
    // The box draws the whole id (clipped), so a name starting with it contains the visible text.
    expect(nodeName({ id: uuid, external: false, first: true })).toBe(`${uuid} (first id), copy the id`);
    expect(nodeName({ id: 'user-a', external: true, first: false })).toBe('user-a (another person), copy the id');
    expect(nodeName({ id: 'user-b', external: false, first: false })).toBe('user-b, copy the id');
  });
  it('knows which ids run longer than their box', () => {
    expect(idOverflows('user-a')).toBe(false);
    expect(idOverflows('alice@example.com')).toBe(false);
    expect(idOverflows(uuid)).toBe(true);
  });
});
