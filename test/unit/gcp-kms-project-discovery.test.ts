import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectScope, projectsQuery, walkHierarchy, type Hierarchy, type ListedProject } from '../../src/collectors/gcp-kms/projects.ts';

// The rules of the walk in src/collectors/gcp-kms/projects.ts, over an in-memory tree: which
// containers it asks about, what it keeps, what a failed listing leaves out, how many calls it
// has in flight. The real client and server are in test/integration/gcp-kms-organization-discovery.test.ts.

interface Tree {
  folders: Record<string, string[]>;
  projects: Record<string, ListedProject[]>;
  failFolders?: string[];
  failProjects?: string[];
}

function hierarchy(tree: Tree): Hierarchy & { asked: string[]; peak: number } {
  let inFlight = 0;
  const self = {
    asked: [] as string[],
    peak: 0,
    async childFolders(container: string) {
      return answer(`folders ${container}`, tree.failFolders?.includes(container) ? null : (tree.folders[container] ?? []));
    },
    async projectsIn(container: string) {
      return answer(`projects ${container}`, tree.failProjects?.includes(container) ? null : (tree.projects[container] ?? []));
    },
  };
  async function answer<T>(what: string, value: T): Promise<T> {
    self.asked.push(what);
    inFlight += 1;
    self.peak = Math.max(self.peak, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 2));
    inFlight -= 1;
    return value;
  }
  return self;
}

const active = (projectId: string): ListedProject => ({ projectId, state: 'ACTIVE' });

const TREE: Tree = {
  folders: { 'organizations/1': ['folders/10', 'folders/20'], 'folders/10': ['folders/11'], 'folders/11': ['folders/12'] },
  projects: {
    'organizations/1': [active('root-a')],
    'folders/10': [active('ten-a')],
    'folders/11': [active('eleven-a'), { projectId: 'eleven-gone', state: 'DELETE_REQUESTED' }],
    'folders/12': [active('twelve-a'), { projectId: 'twelve-odd', state: 'STATE_UNSPECIFIED' }],
    'folders/20': [active('twenty-a'), active('twenty-b')],
  },
};

test('projects: a list stays a list; organization and folder ids are normalised to resource names', () => {
  assert.deepEqual(projectScope(['a-project', 'b-project']), { kind: 'list', projects: ['a-project', 'b-project'] });
  assert.deepEqual(projectScope({ organization: '123456789' }), { kind: 'organization', root: 'organizations/123456789' });
  assert.deepEqual(projectScope({ organization: 'organizations/123456789' }), { kind: 'organization', root: 'organizations/123456789' });
  assert.deepEqual(projectScope({ organization: 123456789 }), { kind: 'organization', root: 'organizations/123456789' });
  assert.deepEqual(projectScope({ folder: 'folders/987' }), { kind: 'folder', root: 'folders/987' });
  assert.deepEqual(projectScope({ folder: 987 }), { kind: 'folder', root: 'folders/987' });
  assert.throws(() => projectScope({ folder: 'organizations/987' }), /projects\.folder/);
  assert.throws(() => projectScope({ organization: 'acme' }), /projects\.organization/);
  assert.throws(() => projectScope({ organization: 1.5 }), /projects\.organization/);
});

test('the SearchProjects query names the immediate parent', () => {
  assert.equal(projectsQuery('folders/987'), 'parent:folders/987');
  assert.equal(projectsQuery('organizations/123'), 'parent:organizations/123');
});

test('the walk reaches every nesting level and keeps only ACTIVE projects', async () => {
  const tree = hierarchy(TREE);
  const found = await walkHierarchy('organizations/1', tree, 4);
  assert.deepEqual(found.active, ['eleven-a', 'root-a', 'ten-a', 'twelve-a', 'twenty-a', 'twenty-b']);
  assert.deepEqual(found.inactive, [
    { projectId: 'eleven-gone', state: 'DELETE_REQUESTED' },
    { projectId: 'twelve-odd', state: 'STATE_UNSPECIFIED' },
  ]);
  assert.deepEqual(found.containers, ['organizations/1', 'folders/10', 'folders/20', 'folders/11', 'folders/12']);
  assert.deepEqual(found.incomplete, []);
  assert.equal(tree.asked.length, 10, 'each container asked once for folders and once for projects');
});

test('a folder walk stays beneath the folder', async () => {
  const tree = hierarchy(TREE);
  const found = await walkHierarchy('folders/10', tree, 4);
  assert.deepEqual(found.active, ['eleven-a', 'ten-a', 'twelve-a']);
  assert.ok(!tree.asked.some((ask) => ask.includes('organizations/1') || ask.includes('folders/20')));
});

test('a failed listing is remembered; what the other calls found is kept', async () => {
  const found = await walkHierarchy('organizations/1', hierarchy({ ...TREE, failFolders: ['folders/10'], failProjects: ['folders/20'] }), 4);
  // folders/11 and 12 are beneath the folder whose children could not be listed; folders/20's projects could not be searched.
  assert.deepEqual(found.active, ['root-a', 'ten-a']);
  assert.deepEqual(found.incomplete, ['folders/10', 'folders/20']);
});

test('a folder reported twice, or beneath itself, is walked once; a project listed twice is scanned once', async () => {
  const tree = hierarchy({
    folders: { 'organizations/1': ['folders/10', 'folders/20'], 'folders/10': ['folders/20', 'folders/10'], 'folders/20': ['organizations/1'] },
    projects: { 'folders/10': [active('moving')], 'folders/20': [active('moving'), { projectId: 'moving', state: 'DELETE_REQUESTED' }] },
  });
  const found = await walkHierarchy('organizations/1', tree, 2);
  assert.deepEqual(found.containers, ['organizations/1', 'folders/10', 'folders/20']);
  assert.deepEqual(found.active, ['moving']);
  assert.deepEqual(found.inactive, []);
});

test('no more calls in flight than the concurrency', async () => {
  const wide: Tree = { folders: { 'organizations/1': Array.from({ length: 30 }, (_, i) => `folders/${i + 100}`) }, projects: {} };
  for (const concurrency of [1, 3]) {
    const tree = hierarchy(wide);
    await walkHierarchy('organizations/1', tree, concurrency);
    assert.equal(tree.peak, concurrency);
    assert.equal(tree.asked.length, 62);
  }
});
