// App-wide reactive state: the route (from the URL hash), theme, live stream, health, projects.

import { api } from './api';
import type { Theme } from './colors';
import { initialLive, reduceLive, type LiveState } from './live';
import { formatHash, globalParams, parseHash, withParams, type Route, type View } from './route';
import type { Health, ProjectSummary, StreamMessage } from './types';

const THEME_KEY = 'identity-inspector-theme';

/** The theme saved in the app's settings file, written into the page by the server. */
function savedTheme(): Theme | null {
  const content =
    typeof document !== 'undefined'
      ? document.querySelector('meta[name="inspector-theme"]')?.getAttribute('content')
      : null;
  return content === 'light' || content === 'dark' ? content : null;
}

function initialTheme(): Theme {
  const server = savedTheme();
  if (server) return server;
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(THEME_KEY) : null;
  if (saved === 'light' || saved === 'dark') return saved;
  return typeof matchMedia !== 'undefined' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Saves the choice in the settings file (the desktop window and later visits start in it). */
async function saveTheme(theme: Theme): Promise<void> {
  try {
    await api.control.setTheme(theme);
  } catch (e) {
    // The toggle still works for this browser (localStorage); only the saved default is stale.
    console.warn('could not save the theme:', e);
  }
}

function metaCaptureUrl(): string {
  const content = document.querySelector('meta[name="inspector-capture-url"]')?.getAttribute('content') ?? '';
  return content.startsWith('http') ? content : `${location.protocol}//${location.host}`;
}

const STREAM_TYPES = [
  'ready',
  'events',
  'rejected',
  'persons',
  'devices',
  'warnings',
  'lagged',
  'pruned',
  'imported',
  'settings',
] as const;

class AppState {
  route = $state<Route>(parseHash(location.hash));
  theme = $state<Theme>(initialTheme());
  live = $state.raw<LiveState>(initialLive());
  health = $state.raw<Health | null>(null);
  projects = $state.raw<ProjectSummary[]>([]);
  captureUrl = $state(metaCaptureUrl());

  project = $derived(this.route.params.project ?? '');

  constructor() {
    window.addEventListener('hashchange', () => {
      this.route = parseHash(location.hash);
    });
    this.applyTheme();
  }

  /** Goes to another view, keeping the global params (project). */
  go(view: View, params: Record<string, string> = {}, id?: string) {
    location.hash = formatHash({ view, id, params: { ...globalParams(this.route.params), ...params } });
  }

  /** A link to another view, keeping the global params. */
  href(view: View, params: Record<string, string> = {}, id?: string): string {
    return formatHash({ view, id, params: { ...globalParams(this.route.params), ...params } });
  }

  /** Changes params of the current view in place (no new history entry unless `push`). */
  setParams(changes: Record<string, string | number | undefined | null>, push = false) {
    const next: Route = { ...this.route, params: withParams(this.route.params, changes) };
    const hash = formatHash(next);
    if (hash === formatHash(this.route)) return;
    if (push) history.pushState(null, '', hash);
    else history.replaceState(null, '', hash);
    this.route = next;
  }

  toggleTheme() {
    this.theme = this.theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, this.theme);
    this.applyTheme();
    void saveTheme(this.theme);
  }

  private applyTheme() {
    document.documentElement.dataset.theme = this.theme;
  }

  async refreshHealth() {
    try {
      this.health = await api.health();
      if (this.health.capture_url) this.captureUrl = this.health.capture_url;
    } catch {
      // shown as disconnected by the stream state
    }
  }

  async refreshProjects() {
    try {
      this.projects = (await api.projects()).projects;
    } catch {
      // keep the last list
    }
  }

  /** Opens `/api/stream`; EventSource reconnects by itself after errors. */
  connect() {
    const source = new EventSource('/api/stream');
    const apply = (msg: Parameters<typeof reduceLive>[1]) => {
      this.live = reduceLive(this.live, msg);
    };
    source.onopen = () => apply({ type: 'open' });
    source.onerror = () => apply({ type: 'error' });
    for (const type of STREAM_TYPES) {
      source.addEventListener(type, (e) => {
        let data: Record<string, unknown>;
        try {
          data = JSON.parse((e as MessageEvent).data);
        } catch {
          return;
        }
        apply({ ...data, type } as StreamMessage);
      });
    }
  }
}

export const app = new AppState();
