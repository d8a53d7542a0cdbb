// A minimal server-sent-events client over fetch's streaming body.
//
//   const stream = await openEventStream(`${url}/api/stream`);
//   const msg = await stream.next((m) => m.event === 'events', 10_000);
//   stream.close();

export async function openEventStream(url, { connectTimeout = 10_000 } = {}) {
  const controller = new AbortController();
  const connectTimer = setTimeout(() => controller.abort(new Error('connect timeout')), connectTimeout);
  let res;
  try {
    res = await fetch(url, { headers: { Accept: 'text/event-stream' }, signal: controller.signal });
  } finally {
    clearTimeout(connectTimer);
  }
  const messages = [];
  const waiters = new Set();
  let closed = false;
  let streamError = null;

  const notify = () => {
    for (const w of waiters) w();
  };

  const info = {
    status: res.status,
    contentType: res.headers.get('content-type') || '',
  };

  (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let current = { event: 'message', data: [], id: undefined };
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let idx;
        while ((idx = buffer.search(/\r\n|\r|\n/)) !== -1) {
          const line = buffer.slice(0, idx);
          const nl = buffer.slice(idx).startsWith('\r\n') ? 2 : 1;
          buffer = buffer.slice(idx + nl);
          if (line === '') {
            if (current.data.length > 0 || current.event !== 'message') {
              const data = current.data.join('\n');
              let json;
              try {
                json = JSON.parse(data);
              } catch {
                json = undefined;
              }
              messages.push({ event: current.event, data, json, id: current.id, at: Date.now() });
              notify();
            }
            current = { event: 'message', data: [], id: undefined };
            continue;
          }
          if (line.startsWith(':')) continue; // comment / keep-alive
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          let value = colon === -1 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'event') current.event = value;
          else if (field === 'data') current.data.push(value);
          else if (field === 'id') current.id = value;
        }
      }
    } catch (err) {
      if (!closed) streamError = err;
    } finally {
      closed = true;
      notify();
    }
  })();

  /** Resolves with the first message (already received or future) matching `predicate`. */
  function next(predicate, timeout = 10_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = messages.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
          return true;
        }
        if (closed) {
          cleanup();
          reject(
            new Error(
              `event stream ended${streamError ? ` (${streamError.message})` : ''} before a matching message; got ${JSON.stringify(messages.map((m) => m.event))}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `no matching SSE message within ${timeout} ms; got ${JSON.stringify(messages.map((m) => ({ event: m.event, data: m.data.slice(0, 200) })))}`,
          ),
        );
      }, timeout);
      const waiter = () => check();
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      waiters.add(waiter);
      check();
    });
  }

  return {
    ...info,
    messages,
    next,
    get closed() {
      return closed;
    },
    close() {
      closed = true;
      controller.abort();
    },
  };
}
