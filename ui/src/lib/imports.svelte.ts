// One import at a time, shared by the header's "Import…" button and the window-wide drop zone:
// the upload, its outcome (the toast) and where to look at the result.

import { api } from './api';
import { app } from './state.svelte';
import { importMessage, type Imported } from './transfer';

export interface ImportOutcome {
  ok: boolean;
  text: string;
  /** The imported data set, when the import worked. */
  dataset?: string;
}

class ImportState {
  busy = $state(false);
  outcome = $state.raw<ImportOutcome | null>(null);

  async upload(file: File) {
    this.busy = true;
    this.outcome = null;
    try {
      const imported: Imported = await api.control.importFile(file);
      this.outcome = { ok: true, text: importMessage(file.name, imported), dataset: imported.dataset };
      await app.refreshProjects();
    } catch (e) {
      this.outcome = { ok: false, text: `${file.name}: ${(e as Error).message}` };
    } finally {
      this.busy = false;
    }
  }

  dismiss() {
    this.outcome = null;
  }
}

export const imports = new ImportState();
