import { describe, expect, it } from 'vitest';
import {
  datasetOf,
  dragHasFiles,
  exportFileName,
  exportUrl,
  firstProjectOf,
  importMessage,
  importUrl,
  savedMessage,
} from './transfer';

describe('exportUrl', () => {
  it('names the format and only the parts of the scope that are set', () => {
    expect(exportUrl({ project: 'phc_x', session: 's-1', device: null }, 'ndjson')).toBe(
      '/api/export?format=ndjson&project=phc_x&session=s-1',
    );
    expect(exportUrl({}, 'bundle')).toBe('/api/export?format=bundle');
  });
  it('encodes lane ids and imported projects', () => {
    expect(exportUrl({ device: 'import:a/phc/dev 1' }, 'har')).toBe(
      '/api/export?format=har&device=import%3Aa%2Fphc%2Fdev+1',
    );
  });
});

describe('importUrl', () => {
  it('carries the file name and an optional data set name', () => {
    expect(importUrl('bug report.har')).toBe('/api/import?filename=bug+report.har');
    expect(importUrl('x.ndjson', 'mine')).toBe('/api/import?filename=x.ndjson&name=mine');
  });
});

describe('datasetOf', () => {
  it('finds the data set of imported projects only', () => {
    expect(datasetOf('import:bug-1/phc_x')).toBe('import:bug-1');
    expect(datasetOf('phc_live')).toBeNull();
    expect(datasetOf(null)).toBeNull();
  });
});

describe('dragHasFiles', () => {
  it('is true only for file drags', () => {
    expect(dragHasFiles(['Files'])).toBe(true);
    expect(dragHasFiles(['text/plain'])).toBe(false);
    expect(dragHasFiles(undefined)).toBe(false);
  });
});

describe('importMessage', () => {
  it('says what was imported and where to find it', () => {
    expect(importMessage('a.har', { dataset: 'import:a', requests: 3, events: 1 })).toBe(
      'Imported 1 event from a.har into import:a, kept apart from live traffic.',
    );
  });

  it('opens the first project of the imported data set', () => {
    const projects = [{ project: 'phc_live' }, { project: 'import:a/phc_x' }, { project: 'import:ab/phc_y' }];
    expect(firstProjectOf('import:a', projects)).toBe('import:a/phc_x');
    expect(firstProjectOf('import:zz', projects)).toBeNull();
  });
});

describe('export downloads', () => {
  it('asks the server to keep secrets only when told', () => {
    expect(exportUrl({ project: 'p' }, 'har')).not.toContain('secrets');
    expect(exportUrl({ project: 'p' }, 'har', true)).toBe('/api/export?format=har&project=p&secrets=keep');
  });

  it('names the file as the server will, up to its time stamp', () => {
    expect(exportFileName({ project: 'p', session: 's/1' }, 'bundle')).toBe('inspector-session-s_1-….iibundle');
    expect(exportFileName({}, 'csv')).toBe('inspector-all-….csv');
    expect(savedMessage({ project: 'phc_x' }, 'ndjson')).toBe(
      "Saved inspector-phc_x-….ndjson to your browser's downloads folder",
    );
  });
});
