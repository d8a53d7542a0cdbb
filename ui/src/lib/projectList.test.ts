import { describe, expect, it } from 'vitest';
import { groupProjects, headerCount } from './projectList';

const projects = [
  { project: 'phc_shop', events: 60 },
  { project: 'phc_shop', events: 2 },
  { project: 'seg_backend', events: 20 },
  { project: 'import:session-export/phc_shop', events: 62 },
  { project: 'import:bug/phc_x', events: 5 },
];

describe('groupProjects', () => {
  it('sums a token over its sources and puts each imported data set in its own group', () => {
    const g = groupProjects(projects);
    expect(g.live).toEqual([
      { project: 'phc_shop', events: 62 },
      { project: 'seg_backend', events: 20 },
    ]);
    expect(g.imports.map((i) => i.dataset)).toEqual(['import:session-export', 'import:bug']);
    expect(g.imports[0].projects).toEqual([{ project: 'import:session-export/phc_shop', events: 62 }]);
  });

  it('keeps a selected project that has no events yet', () => {
    expect(groupProjects(projects, 'phc_new').live.at(-1)).toEqual({ project: 'phc_new', events: 0 });
  });
});

describe('headerCount', () => {
  it('follows the selected project', () => {
    expect(headerCount(projects, 'phc_shop', false)).toBe(62);
    expect(headerCount(projects, 'import:bug/phc_x', false)).toBe(5);
  });

  it('counts live traffic only under All projects unless imports are asked for', () => {
    expect(headerCount(projects, '', false)).toBe(82);
    expect(headerCount(projects, '', true)).toBe(149);
  });
});
