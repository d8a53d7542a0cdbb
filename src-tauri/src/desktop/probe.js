// Injected only with --test-probe. Reports the page to the in-process server for the desktop
// smoke test: whether the UI rendered, the route, and the visible text.
(function () {
  if (window.top !== window) return;
  const token = '__TOKEN__';
  async function report() {
    try {
      const body = {
        title: document.title,
        hash: location.hash,
        ready: !!document.querySelector('header nav'),
        text: document.body ? document.body.innerText.slice(0, 50000) : '',
        width: window.innerWidth,
        height: window.innerHeight,
      };
      const res = await fetch('/api/test/probe', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-inspector-token': token },
        body: JSON.stringify(body),
      });
      const reply = await res.json();
      if (reply.navigate) location.hash = reply.navigate;
    } catch (e) {
      // The server may be starting or stopping; the next tick tries again.
    }
  }
  setInterval(report, 300);
})();
