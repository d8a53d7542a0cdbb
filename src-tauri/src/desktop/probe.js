// Injected only with --test-probe. Reports the page to the in-process server for the desktop
// smoke test: whether the UI rendered, the route, the theme and the visible text. A navigation
// of the form `#!click=<css selector>` clicks that element instead (a button, as a user would).
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
        theme: document.documentElement.dataset.theme || null,
      };
      const res = await fetch('/api/test/probe', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-inspector-token': token },
        body: JSON.stringify(body),
      });
      const reply = await res.json();
      const click = reply.navigate && reply.navigate.startsWith('#!click=') ? reply.navigate.slice(8) : null;
      if (click) document.querySelector(click)?.click();
      else if (reply.navigate) location.hash = reply.navigate;
    } catch (e) {
      // The server may be starting or stopping; the next tick tries again.
    }
  }
  setInterval(report, 300);
})();
