// App-wide reactive state: the route (from the URL hash), theme, live stream, health, projects.

import { api, trafficScope } from './api';
import type { Theme } from './colors';
import { bumpAll, initialLive, reduceLive, type LiveState } from './live';
import { nextTheme, type ThemeChoice } from './theme';
import { formatHash, globalParams, parseHash, withParams, type Route, type View } from './route';
import type { Health, ProjectSummary, StreamMessage } from './types';

const THEME_KEY = 'identity-inspector-theme';

/** The theme the server wrote into the page (the settings file's default, e.g. from the desktop menu). */
function serverTheme(): ThemeChoice | null {
  const content =
    typeof document !== 'undefined'
      ? document.querySelector('meta[name="inspector-theme"]')?.getAttribute('content')
      : null;
  return content === 'light' || content === 'dark' || content === 'system' ? content : null;
}

/**
 * The theme is per client: this browser's own choice (localStorage) wins; without one, the server's
 * default (the desktop menu writes the same key before it reloads, so both agree there); else the system.
 */
function initialChoice(): ThemeChoice {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(THEME_KEY) : null;
  if (saved === 'light' || saved === 'dark') return saved;
  return serverTheme() ?? 'system';
}

function systemDark(): MediaQueryList | null {
  return typeof matchMedia !== 'undefined' ? matchMedia('(prefers-color-scheme: dark)') : null;
}

function metaCaptureUrl(): string {
  const content = document.querySelector('meta[name="inspector-capture-url"]')?.getAttribute('content') ?? '';
  return content.startsWith('http') ? content : `${location.protocol}//${location.host}`;
}

const RECONNECT_MS = 1500;

const STREAM_TYPES = [
  'ready',
  'events',
  'rejected',
  'faulted',
  'faults',
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
  themeChoice = $state<ThemeChoice>(initialChoice());
  #systemDark = $state(systemDark()?.matches ?? false);
  /** The system's own theme (prefers-color-scheme). */
  systemTheme = $derived<Theme>(this.#systemDark ? 'dark' : 'light');
  theme = $derived<Theme>(this.themeChoice === 'system' ? this.systemTheme : this.themeChoice);
  live = $state.raw<LiveState>(initialLive());
  health = $state.raw<Health | null>(null);
  projects = $state.raw<ProjectSummary[]>([]);
  captureUrl = $state(metaCaptureUrl());

  project = $derived(this.route.params.project ?? '');
  /** Under "All projects", imported data sets count too (`imports=1`); otherwise only live traffic. */
  includeImports = $derived(!this.route.params.project && this.route.params.imports === '1');

  constructor() {
    this.syncScope();
    window.addEventListener('hashchange', () => {
      this.route = parseHash(location.hash);
      this.syncScope();
    });
    systemDark()?.addEventListener('change', (e) => {
      this.#systemDark = e.matches;
      this.applyTheme();
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
    this.syncScope();
  }

  /**
   * Tells `api` whether "All projects" reads leave imports out. Views key their queries on the
   * project, not on this, so when it flips every view refetches.
   */
  private syncScope() {
    const liveOnly = !(!this.route.params.project && this.route.params.imports === '1');
    if (trafficScope.liveOnly === liveOnly) return;
    trafficScope.liveOnly = liveOnly;
    this.refetchAll();
  }

  /** The next of the three choices (see `nextTheme`). Kept in this browser only: other clients keep their own. */
  cycleTheme() {
    this.themeChoice = nextTheme(this.themeChoice, this.systemTheme);
    if (this.themeChoice === 'system') localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, this.themeChoice);
    this.applyTheme();
  }

  private applyTheme() {
    // `theme` is derived: read it after the choice changed, outside any effect.
    document.documentElement.dataset.theme = this.theme;
  }

  /** Every view refetches what it shows (e.g. the picker now includes or leaves out imports). */
  refetchAll() {
    this.live = { ...this.live, revision: bumpAll(this.live.revision) };
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

  /**
   * Opens `/api/stream`. EventSource retries a dropped connection by itself, but gives up for good
   * when an attempt gets an HTTP error (e.g. while the server starts again): then a new one is
   * opened after a pause, so the page always comes back on its own.
   */
  connect() {
    const source = new EventSource('/api/stream');
    const apply = (msg: Parameters<typeof reduceLive>[1]) => {
      this.live = reduceLive(this.live, msg);
    };
    source.onopen = () => apply({ type: 'open' });
    source.onerror = () => {
      apply({ type: 'error' });
      if (source.readyState === EventSource.CLOSED) setTimeout(() => this.connect(), RECONNECT_MS);
    };
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
