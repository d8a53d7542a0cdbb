// Rate limiting for live refreshes: a burst of stream messages costs one fetch now and one at the
// end, never one per message.

/** Calls `fn` at most once per `ms` (first call at once, the last one of a burst at the end). */
export function throttle(fn: () => void, ms: number): () => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0 && !timer) {
      last = Date.now();
      fn();
    } else if (!timer) {
      timer = setTimeout(
        () => {
          timer = null;
          last = Date.now();
          fn();
        },
        Math.max(0, wait),
      );
    }
  };
}
