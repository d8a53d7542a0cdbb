// The fault rules as the page knows them (`GET /api/faults`), and the panel that shows them.
// Read again when the stream says they changed (`faults`) and when the page (re)connects; the
// header's badge and the panel read `faults.page`.

import { api } from '../lib/api';
import type { FaultsPage } from '../lib/types';

class FaultsState {
  page = $state.raw<FaultsPage | null>(null);
  open = $state(false);
  busy = $state(false);
  /** The last refusal or failure, in the server's words ("share must be between 0 and 1…"). */
  error = $state('');

  /** Rules in force (0 until the first read). */
  active = $derived(this.page?.active ?? 0);

  async refresh() {
    try {
      this.page = await api.faults();
    } catch {
      // keep the last list; the stream's reconnect reads it again
    }
  }

  /** Runs a change, then reads the rules again; says why it failed, if it did. */
  private async change(work: () => Promise<unknown>): Promise<boolean> {
    this.busy = true;
    this.error = '';
    try {
      await work();
      return true;
    } catch (e) {
      this.error = (e as Error).message;
      return false;
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }

  add(rule: string): Promise<boolean> {
    return this.change(() => api.control.addFault(rule));
  }

  remove(id: number): Promise<boolean> {
    return this.change(() => api.control.removeFault(id));
  }

  clear(): Promise<boolean> {
    return this.change(() => api.control.clearFaults());
  }

  show() {
    this.error = '';
    this.open = true;
    void this.refresh();
  }

  close() {
    this.open = false;
  }
}

export const faults = new FaultsState();
