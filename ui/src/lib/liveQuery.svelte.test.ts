import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveQuery, type LiveQueryOptions } from './liveQuery.svelte';

/** A fetch the test answers by hand, recording the signal it was given. */
function deferred<T>() {
  const calls: { signal: AbortSignal; resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  const load = (signal: AbortSignal) =>
    new Promise<T>((resolve, reject) => {
      calls.push({ signal, resolve, reject });
    });
  return { calls, load };
}

/** Runs `fn` inside an effect root, as a component's script would; returns its teardown. */
function mount<T>(make: () => LiveQuery<T>): { query: LiveQuery<T>; destroy: () => void } {
  let query!: LiveQuery<T>;
  const destroy = $effect.root(() => {
    query = make();
  });
  flushSync();
  return { query, destroy };
}

/** Lets pending promise callbacks run (timers are fake, so no setTimeout here). */
async function settle() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LiveQuery', () => {
  it('loads once at start and exposes value, loading and error', async () => {
    const { calls, load } = deferred<number[]>();
    const { query, destroy } = mount(() => new LiveQuery({ load, initial: [] as number[] }));
    expect(calls).toHaveLength(1);
    expect(query.loading).toBe(true);
    expect(query.value).toEqual([]);
    calls[0].resolve([1, 2]);
    await vi.waitFor(() => expect(query.loading).toBe(false));
    expect(query.value).toEqual([1, 2]);
    expect(query.loaded).toBe(true);
    expect(query.error).toBeNull();
    destroy();
  });

  it('reloads when the key changes and aborts the older load, whose late answer is dropped', async () => {
    const { calls, load } = deferred<string>();
    let key = $state('a');
    const { query, destroy } = mount(() => new LiveQuery({ key: () => key, load, initial: '' }));
    key = 'b';
    flushSync();
    expect(calls).toHaveLength(2);
    expect(calls[0].signal.aborted).toBe(true);
    expect(calls[1].signal.aborted).toBe(false);
    calls[1].resolve('new');
    calls[0].resolve('old');
    await settle();
    expect(query.value).toBe('new');
    destroy();
  });

  it('eager: loads while the owner is built, not again when it mounts, and again on a key change', async () => {
    const { calls, load } = deferred<string>();
    let key = $state(['a', 1]);
    let made!: LiveQuery<string>;
    const destroy = $effect.root(() => {
      made = new LiveQuery({ key: () => key, load, initial: '', eager: true });
      // Started before any effect ran (before the owner mounted).
      expect(calls).toHaveLength(1);
    });
    flushSync();
    expect(calls).toHaveLength(1);
    expect(calls[0].signal.aborted).toBe(false);
    calls[0].resolve('first');
    await settle();
    expect(made.value).toBe('first');
    key = ['b', 1];
    flushSync();
    expect(calls).toHaveLength(2);
    destroy();
    expect(calls[1].signal.aborted).toBe(true);
  });

  it('changes the value at once on a key change when asked to', async () => {
    const { calls, load } = deferred<string>();
    let key = $state(1);
    const { query, destroy } = mount(
      () => new LiveQuery({ key: () => key, load, initial: 'none', onKeyChange: () => 'none' }),
    );
    calls[0].resolve('first');
    await settle();
    expect(query.value).toBe('first');
    key = 2;
    flushSync();
    expect(query.value).toBe('none');
    destroy();
  });

  it('refreshes on a live revision, throttled: one at once, the last of a burst later', async () => {
    const { calls, load } = deferred<number>();
    let revision = $state(0);
    const options: LiveQueryOptions<number> = {
      load,
      initial: 0,
      live: [{ revision: () => revision, throttleMs: 1000 }],
    };
    const { destroy } = mount(() => new LiveQuery(options));
    expect(calls).toHaveLength(1);
    revision = 1;
    flushSync();
    expect(calls).toHaveLength(2);
    expect(calls[0].signal.aborted).toBe(true);
    revision = 2;
    flushSync();
    revision = 3;
    flushSync();
    expect(calls).toHaveLength(2);
    vi.advanceTimersByTime(1000);
    expect(calls).toHaveLength(3);
    destroy();
  });

  it('keeps the value and reports the error when a load fails', async () => {
    const { calls, load } = deferred<string>();
    let revision = $state(0);
    const { query, destroy } = mount(
      () => new LiveQuery({ load, initial: '', live: [{ revision: () => revision, throttleMs: 0 }] }),
    );
    calls[0].resolve('ok');
    await settle();
    revision = 1;
    flushSync();
    calls[1].reject(new Error('boom'));
    await settle();
    expect(query.value).toBe('ok');
    expect(query.error?.message).toBe('boom');
    expect(query.loading).toBe(false);
    destroy();
  });

  it('applies an extension to the current value, and drops it once a newer load started', async () => {
    const { calls, load } = deferred<number[]>();
    let key = $state(0);
    const { query, destroy } = mount(() => new LiveQuery({ key: () => key, load, initial: [] as number[] }));
    calls[0].resolve([1]);
    await settle();
    expect(
      await query.extend(
        async () => [2],
        (cur, more) => cur.concat(more),
      ),
    ).toBe(true);
    expect(query.value).toEqual([1, 2]);

    let answer!: (v: number[]) => void;
    const late = query.extend(
      (signal) => new Promise<number[]>((r) => ((answer = r), expect(signal.aborted).toBe(false))),
      (cur, more) => cur.concat(more),
    );
    key = 1;
    flushSync();
    answer([3]);
    expect(await late).toBe(false);
    expect(query.value).toEqual([1, 2]);
    destroy();
  });

  it('aborts its load and stops refreshing when the owner is destroyed', async () => {
    const { calls, load } = deferred<number>();
    let revision = $state(0);
    const { destroy } = mount(
      () => new LiveQuery({ load, initial: 0, live: [{ revision: () => revision, throttleMs: 1000 }] }),
    );
    destroy();
    expect(calls[0].signal.aborted).toBe(true);
    revision = 1;
    flushSync();
    vi.advanceTimersByTime(5000);
    expect(calls).toHaveLength(1);
  });

  it('runs a custom live refresh instead of a reload', async () => {
    const { calls, load } = deferred<number>();
    let revision = $state(0);
    const refresh = vi.fn();
    const { destroy } = mount(
      () => new LiveQuery({ load, initial: 0, live: [{ revision: () => revision, throttleMs: 10, refresh }] }),
    );
    revision = 1;
    flushSync();
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(calls).toHaveLength(1);
    destroy();
  });
});
