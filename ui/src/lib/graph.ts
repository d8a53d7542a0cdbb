// The person graph: one node per distinct id, one labelled edge per decision that joined two ids
// (merged, attached, created), refused merges as edges of their own (drawn red and dashed), to
// ids of other persons when the refused source is not this person's.

import type { Decision, PersonDetail } from './types';

export interface GraphNode {
  id: string;
  x: number;
  y: number;
  /** Not one of this person's ids: the other side of a refused merge. */
  external: boolean;
  /** The id the person was created from (its uuid derives from it). */
  first: boolean;
}

export interface GraphEdge {
  from: string;
  to: string;
  decision: Decision;
  refused: boolean;
  /** SVG path (quadratic curve) and where its label goes. */
  path: string;
  labelX: number;
  labelY: number;
  /** How many decisions this edge stands for (repeats of the same merge). */
  count: number;
}

export interface GraphLayout {
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
  /** Ids not drawn (very large persons). */
  hidden: number;
}

export const NODE_W = 160;
export const NODE_H = 36;
/** Room between a node's border and its id text. */
export const NODE_TEXT_PAD = 8;
/** Width of one character of a node's id (12 px monospace), for deciding whether it fits. */
const ID_CHAR_PX = 7.3;

/** Whether `id` runs longer than its node's box (then it starts at the left and fades out). */
export function idOverflows(id: string): boolean {
  return id.length * ID_CHAR_PX > NODE_W - 2 * NODE_TEXT_PAD;
}

/**
 * A node's accessible name: the whole id first, as the box draws it (what a voice user reads off
 * the screen), then what it is and what the button does.
 */
export function nodeName(n: Pick<GraphNode, 'id' | 'external' | 'first'>): string {
  const what = n.external ? ' (another person)' : n.first ? ' (first id)' : '';
  return `${n.id}${what}, copy the id`;
}
const COL_W = 320;
const ROW_H = 118;
const PAD_X = 24;
const PAD_TOP = 64;

const JOINING = new Set(['merged', 'attached', 'created', 'refused']);

export function layoutGraph(
  person: Pick<PersonDetail, 'distinct_ids' | 'decisions'>,
  width: number,
  maxNodes = 60,
): GraphLayout {
  const own = new Set(person.distinct_ids);
  const ids = [...person.distinct_ids];
  const relevant = person.decisions.filter((d) => JOINING.has(d.kind) && d.source && d.target && d.source !== d.target);
  for (const d of relevant) {
    for (const id of [d.source!, d.target!]) if (!own.has(id) && !ids.includes(id)) ids.push(id);
  }
  const drawn = ids.slice(0, maxNodes);
  const cols = Math.max(1, Math.min(drawn.length, Math.floor((width - 2 * PAD_X + (COL_W - NODE_W)) / COL_W)));
  const nodes: GraphNode[] = drawn.map((id, i) => ({
    id,
    x: PAD_X + (i % cols) * COL_W + NODE_W / 2,
    y: PAD_TOP + Math.floor(i / cols) * ROW_H + NODE_H / 2,
    external: !own.has(id),
    first: id === person.distinct_ids[0],
  }));
  const at = new Map(nodes.map((n, i) => [n.id, { n, i }]));

  const edges: GraphEdge[] = [];
  const byPair = new Map<string, GraphEdge>();
  for (const d of [...relevant].sort((a, b) => a.seq - b.seq)) {
    const a = at.get(d.source!);
    const b = at.get(d.target!);
    if (!a || !b) continue;
    const refused = d.kind === 'refused';
    const key = `${d.source}\u0000${d.target}\u0000${refused}`;
    const seen = byPair.get(key);
    if (seen) {
      seen.count++;
      continue;
    }
    const sameRow = a.n.y === b.n.y;
    const gap = Math.abs(a.i - b.i);
    // Neighbours: a straight line (a refused one arcs above, apart from any merge between the
    // same two ids); further apart on one row: an arc above, higher the further.
    const lift = sameRow ? (gap <= 1 ? (refused ? 34 : 0) : Math.min(ROW_H * 0.45, 18 + gap * 14)) : 0;
    const mx = (a.n.x + b.n.x) / 2;
    const midY = (a.n.y + b.n.y) / 2;
    const edge: GraphEdge = {
      from: d.source!,
      to: d.target!,
      decision: d,
      refused,
      path: `M ${a.n.x} ${a.n.y} Q ${mx} ${midY - lift * 2} ${b.n.x} ${b.n.y}`,
      // On the curve's apex; a straight edge's label sits just above the line.
      labelX: mx,
      labelY: lift === 0 ? midY - 14 : midY - lift,
      count: 1,
    };
    byPair.set(key, edge);
    edges.push(edge);
  }
  const rows = Math.ceil(nodes.length / cols);
  return {
    nodes,
    edges,
    width: Math.max(width, PAD_X * 2 + cols * COL_W - (COL_W - NODE_W)),
    height: PAD_TOP + rows * ROW_H - (ROW_H - NODE_H) + 24,
    hidden: ids.length - drawn.length,
  };
}

/** Event uuid -> timestamp, from every event reference a person detail carries. */
export function eventTimes(person: PersonDetail): Map<string, string> {
  const out = new Map<string, string>();
  const add = (r: { event_uuid: string; timestamp: string } | null | undefined) => {
    if (r && !out.has(r.event_uuid)) out.set(r.event_uuid, r.timestamp);
  };
  add(person.created_by);
  add(person.identified_by);
  for (const h of person.history ?? []) add(h.by);
  for (const m of person.merged_from ?? []) add(m.by);
  for (const o of Object.values(person.property_origins ?? {})) add(o.by);
  return out;
}
