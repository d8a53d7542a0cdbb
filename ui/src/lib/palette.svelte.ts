// Which palette slot each person drawn together takes. A person's slot is its id's hash
// (`colors.ts`), the same in every view and every tab; when two persons shown together hash to the
// same slot, the one later in (hash, id) order takes the next free slot, so colours never lie about
// two persons being one. The result depends only on the set of persons on screen, never on the
// order they were loaded in.

import { SvelteMap } from 'svelte/reactivity';

import { placeSlots, usePlacedSlots } from './colors';

/** The slots of the persons the current view draws together (devices view lanes). */
class OnScreen {
  slots = new SvelteMap<string, number>();

  /** Replaces the set of persons drawn together. */
  show(personIds: Iterable<string>) {
    const next = placeSlots(personIds);
    for (const id of [...this.slots.keys()]) if (!next.has(id)) this.slots.delete(id);
    for (const [id, slot] of next) if (this.slots.get(id) !== slot) this.slots.set(id, slot);
  }
}

export const onScreen = new OnScreen();
usePlacedSlots(onScreen.slots);
