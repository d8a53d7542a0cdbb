// Readable names for events that lists only know by uuid (a finding's events): "`$set` 16:28:12",
// fetched when a row first asks for one, a few at a time, and kept for the page session.

import { SvelteMap } from 'svelte/reactivity';
import { api } from './api';
import { formatTime } from './format';

export interface EventLabel {
  event: string;
  /** The event's (corrected) time, as the table shows it. */
  time: string;
  /** The device lane it was on, when it has one. */
  device_id: string | null;
}

/** At most this many lookups run at once, so a page of findings does not flood the server. */
const PARALLEL = 4;

export class EventLabels {
  /** uuid -> label, or null once known missing (pruned, cleared). */
  #known = new SvelteMap<string, EventLabel | null>();
  #queue: string[] = [];
  // Bookkeeping only: nothing renders from it.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- see above
  #asked = new Set<string>();
  #running = 0;

  /** The label when known (undefined while on its way: it is fetched on the first call). */
  get(uuid: string): EventLabel | null | undefined {
    if (!this.#asked.has(uuid)) {
      this.#asked.add(uuid);
      this.#queue.push(uuid);
      queueMicrotask(() => this.#pump());
    }
    return this.#known.get(uuid);
  }

  #pump() {
    while (this.#running < PARALLEL && this.#queue.length) {
      const uuid = this.#queue.shift()!;
      this.#running++;
      api
        .event(uuid)
        .then(({ event: e }) =>
          this.#known.set(uuid, { event: e.event, time: formatTime(e.timestamp).slice(0, 8), device_id: e.device_id }),
        )
        .catch(() => this.#known.set(uuid, null))
        .finally(() => {
          this.#running--;
          this.#pump();
        });
    }
  }
}
