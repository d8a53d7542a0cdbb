// What the event detail shows for Segment/RudderStack messages and Mixpanel events: the identity
// fields by name, and the message's parts (traits, properties, $engage operations) one by one.
// A stored Segment event's `properties` is the whole message (the shared contract), so its `type`
// is read from there, never guessed from the event name.

import type { Family, StoredEvent } from './types';

export interface VendorField {
  label: string;
  /** As text (numbers and booleans as JSON); null shows as a dash. */
  value: string | null;
  /** Set when the value can filter the events list (`distinct_id`, `device_id`). */
  filter?: 'distinct_id' | 'device_id';
}

export interface VendorSection {
  title: string;
  value: unknown;
}

export interface VendorView {
  /** e.g. "Segment identify", "Mixpanel profile update". */
  title: string;
  fields: VendorField[];
  sections: VendorSection[];
  /** The heading for the stored properties (the whole message for Segment). */
  rawTitle: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const nonEmpty = (v: unknown) => isObj(v) && Object.keys(v).length > 0;

/** A value as the text a person reads: strings as they are, everything else as JSON. */
export function fieldText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** `family`: whose rules the event's source gets (`familyOf(event.source, families)`). */
export function vendorView(event: StoredEvent, family: Family | null): VendorView | null {
  if (family === 'segment') return segmentView(event);
  if (family === 'mixpanel') return mixpanelView(event);
  return null;
}

const VENDOR_LABEL: Record<string, string> = { segment: 'Segment', rudderstack: 'RudderStack' };

function segmentView(event: StoredEvent): VendorView {
  const msg: Record<string, unknown> = event.properties ?? {};
  const type = fieldText(msg.type) ?? 'unknown';
  const context = obj(msg.context);
  const library = obj(context.library);
  const f = (label: string, v: unknown, filter?: VendorField['filter']): VendorField => ({
    label,
    value: fieldText(v),
    ...(filter ? { filter } : {}),
  });
  const fields: VendorField[] = [f('type', msg.type)];
  if (type === 'track') fields.push(f('event', msg.event));
  if (type === 'page' || type === 'screen') fields.push(f('name', msg.name));
  fields.push(f('userId', msg.userId, 'distinct_id'), f('anonymousId', msg.anonymousId, 'distinct_id'));
  if (type === 'alias' || msg.previousId !== undefined) fields.push(f('previousId', msg.previousId, 'distinct_id'));
  if (type === 'group' || msg.groupId !== undefined) fields.push(f('groupId', msg.groupId));
  fields.push(f('context.device.id', obj(context.device).id, 'device_id'));
  const email = obj(msg.traits).email ?? obj(context.traits).email;
  if (email !== undefined) fields.push(f('email (traits)', email));
  fields.push(f('messageId', msg.messageId));
  if (library.name !== undefined)
    fields.push(f('library', [library.name, library.version].filter((x) => x !== undefined).join(' ')));

  const sections: VendorSection[] = [];
  if (nonEmpty(msg.traits)) sections.push({ title: type === 'group' ? 'Group traits' : 'Traits', value: msg.traits });
  if (nonEmpty(context.traits)) sections.push({ title: 'Context traits', value: context.traits });
  if (nonEmpty(msg.properties)) sections.push({ title: 'Properties', value: msg.properties });
  if (nonEmpty(msg.integrations)) sections.push({ title: 'Integrations', value: msg.integrations });
  const vendor = VENDOR_LABEL[event.source] ?? 'Segment';
  return { title: `${vendor} ${type}`, fields, sections, rawTitle: `Whole message (as ${vendor} received it)` };
}

/** Mixpanel profile operations, in the order Mixpanel applies them. */
const ENGAGE_OPS: [string, string][] = [
  ['$set', 'Set'],
  ['$set_once', 'Set once'],
  ['$add', 'Add'],
  ['$append', 'Append'],
  ['$union', 'Union'],
  ['$remove', 'Remove'],
  ['$unset', 'Unset'],
  ['$delete', 'Delete profile'],
];

function mixpanelView(event: StoredEvent): VendorView {
  const p: Record<string, unknown> = event.properties ?? {};
  const f = (label: string, v: unknown, filter?: VendorField['filter']): VendorField => ({
    label,
    value: fieldText(v),
    ...(filter ? { filter } : {}),
  });
  const ops = ENGAGE_OPS.filter(([key]) => key in p).map(([key, title]) => ({
    title: `${title} (${key})`,
    value: p[key],
  }));

  if (event.event === '$engage') {
    const fields = [
      f('$distinct_id', p.$distinct_id, 'distinct_id'),
      f('$device_id', p.$device_id, 'device_id'),
      f('$user_id', p.$user_id, 'distinct_id'),
      f('$token', p.$token),
    ];
    return {
      title: 'Mixpanel profile update',
      fields,
      sections: ops,
      rawTitle: 'Whole update (as Mixpanel received it)',
    };
  }
  if (event.event === '$groups') {
    const fields = [f('$group_key', p.$group_key), f('$group_id', p.$group_id), f('$token', p.$token)];
    return {
      title: 'Mixpanel group update',
      fields,
      sections: ops,
      rawTitle: 'Whole update (as Mixpanel received it)',
    };
  }

  const fields = [
    f('event', event.event),
    f('distinct_id', p.distinct_id, 'distinct_id'),
    f('$device_id', p.$device_id, 'device_id'),
    f('$user_id', p.$user_id, 'distinct_id'),
  ];
  // The ids the identity events carry (Simplified and Original ID Merge).
  if (event.event === '$identify')
    fields.push(
      f('$anon_distinct_id', p.$anon_distinct_id, 'distinct_id'),
      f('$identified_id', p.$identified_id, 'distinct_id'),
    );
  if (event.event === '$create_alias') fields.push(f('alias', p.alias, 'distinct_id'));
  if (event.event === '$merge') fields.push(f('$distinct_ids', p.$distinct_ids));
  fields.push(f('$insert_id', p.$insert_id), f('time', p.time), f('token', p.token));
  return { title: `Mixpanel ${event.event}`, fields, sections: [], rawTitle: 'Properties (as Mixpanel received them)' };
}
