// A view's data from /api, kept fresh by the live stream: `LiveQuery` loads it when the view's
// query changes and again (throttled) when the stream says the data behind it moved.
//
// Invariants:
// - Only the newest load writes. Each load (and each `extend` made during it) runs under one
//   AbortController; starting another load, or the owner being destroyed, aborts it, so a late
//   answer for an older query never replaces a newer one.
// - `value` is replaced, never mutated (`$state.raw`): views derive from it cheaply.
// - A live refresh never runs while reading the owner's state is tracked, so a refresh that reads
//   e.g. which rows are on screen does not make scrolling refetch.

import { untrack } from 'svelte';
import { throttle } from './throttle';

/** A change in the live stream that should refresh the query. */
export interface LiveTrigger {
  /** A revision counter from `app.live.revision`; read in an effect, so it is tracked. */
  revision: () => number;
  /** At most one refresh per this many ms. */
  throttleMs: number;
  /** What a refresh does; a full `reload()` when left out (paged views fetch less). */
  refresh?: () => void;
}

export interface LiveQueryOptions<T> {
  /** Read in an effect: when what it reads changes, the query reloads. Leave out for "never". */
  key?: () => unknown;
  /** Fetches the whole value; pass `signal` on to `api.*`. */
  load: (signal: AbortSignal) => Promise<T>;
  /** The value until the first load answers. */
  initial: T;
  /** What `value` becomes the moment the key changes (for views that must not show old rows). */
  onKeyChange?: (current: T) => T;
  live?: LiveTrigger[];
  /**
   * Start the first load while the owner is still being built rather than once it has mounted:
   * the view's data is on its way while the rest of the page is built, laid out and measured
   * (on a 2-core machine that work and the server's answer otherwise run one after the other).
   * Only for a `load` that reads nothing the owner declares after the query.
   */
  eager?: boolean;
}

export class LiveQuery<T> {
  #value = $state.raw<T>() as T;
  #loading = $state(true);
  #loaded = $state(false);
  #error = $state.raw<Error | null>(null);
  #controller: AbortController | null = null;
  #destroyed = false;
  readonly #options: LiveQueryOptions<T>;

  /** Must be constructed while a component initialises (it owns effects tied to that component). */
  constructor(options: LiveQueryOptions<T>) {
    this.#options = options;
    this.#value = options.initial;
    // The key the eager load was started for; the effect's first run reloads only if it moved.
    let eagerKey: string | undefined;
    if (options.eager) {
      eagerKey = untrack(() => JSON.stringify(options.key?.() ?? null));
      untrack(() => this.reload());
    }
    $effect(() => {
      const key = options.key?.();
      untrack(() => {
        const started = eagerKey !== undefined && JSON.stringify(key ?? null) === eagerKey;
        eagerKey = undefined;
        if (started) return;
        if (options.onKeyChange) this.#value = options.onKeyChange(this.#value);
        this.reload();
      });
      return () => this.#controller?.abort();
    });
    $effect(() => () => {
      this.#destroyed = true;
    });
    for (const trigger of options.live ?? []) {
      const refresh = throttle(() => {
        if (!this.#destroyed) (trigger.refresh ?? (() => this.reload()))();
      }, trigger.throttleMs);
      $effect(() => {
        if (trigger.revision() > 0) untrack(refresh);
      });
    }
  }

  get value(): T {
    return this.#value;
  }

  /** A full load is on its way. */
  get loading(): boolean {
    return this.#loading;
  }

  /** A load has answered (or failed) at least once: an empty value now means "nothing", not "not yet". */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Why the latest load or extension failed; null once one succeeds. */
  get error(): Error | null {
    return this.#error;
  }

  /** Loads the whole value again, aborting whatever the previous load still has in flight. */
  reload(): void {
    if (this.#destroyed) return;
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const { signal } = controller;
    this.#loading = true;
    this.#options.load(signal).then(
      (value) => {
        if (signal.aborted) return;
        this.#value = value;
        this.#error = null;
        this.#loading = false;
        this.#loaded = true;
      },
      (e) => {
        if (signal.aborted) return;
        this.#error = e instanceof Error ? e : new Error(String(e));
        this.#loading = false;
        this.#loaded = true;
      },
    );
  }

  /**
   * Fetches more for the current load (the next page, what arrived since): `apply` builds the new
   * value from the one current when the answer comes. Dropped when a newer load started meanwhile.
   * Resolves to whether it was applied.
   */
  async extend<R>(request: (signal: AbortSignal) => Promise<R>, apply: (current: T, result: R) => T): Promise<boolean> {
    const signal = this.#controller?.signal;
    if (!signal || signal.aborted) return false;
    try {
      const result = await request(signal);
      if (signal.aborted) return false;
      this.#value = apply(this.#value, result);
      this.#error = null;
      return true;
    } catch (e) {
      if (!signal.aborted) this.#error = e instanceof Error ? e : new Error(String(e));
      return false;
    }
  }
}
