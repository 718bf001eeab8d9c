import { mapBounded } from '../../util/limit.ts';

// Which projects a gcp-kms source scans: the ids it lists, or every ACTIVE project beneath an
// organization or a folder, nested folders included. The walk below is independent of the client
// library (resource-manager.ts gives it the real calls), so its rules are tested on their own:
//
//   - Resource Manager answers one level at a time. ListFolders returns "folders that are direct
//     descendants" of its parent, and a SearchProjects query `parent:folders/123` matches the
//     Project.parent field, which names the project's immediate folder or organization only. So
//     the walk asks, for each container (the root, then every folder found), for its child folders
//     and for its projects, level by level, until no new folder appears.
//   - State is judged here, not in the query: the API reference says a query of several terms
//     "will return results that match any of the fields", so `parent:folders/1 state:ACTIVE` could
//     also answer with active projects anywhere else. Only ACTIVE projects are scanned; one in
//     DELETE_REQUESTED (or any other state) is counted as skipped.
//   - A container whose folders or projects could not be listed is remembered (its failure is
//     already a source error); what the others yield is still scanned.

/** The `projects` field of a gcp-kms source. */
export type GcpProjectsConfig = string[] | { organization: string | number } | { folder: string | number };

export type ProjectScope = { kind: 'list'; projects: string[] } | { kind: 'organization' | 'folder'; root: string };

const ORGANIZATION = /^(?:organizations\/)?(\d+)$/;
const FOLDER = /^(?:folders\/)?(\d+)$/;

/**
 * The listed project ids, or the resource name (`organizations/123`, `folders/987`) of the node
 * whose projects are discovered. `123` and `organizations/123` are the same organization; a YAML
 * number is taken as its digits. Throws on anything else (the config schema refuses it first).
 */
export function projectScope(projects: GcpProjectsConfig): ProjectScope {
  if (Array.isArray(projects)) return { kind: 'list', projects };
  if ('organization' in projects) return { kind: 'organization', root: `organizations/${digits(projects.organization, ORGANIZATION, 'organization')}` };
  if ('folder' in projects) return { kind: 'folder', root: `folders/${digits(projects.folder, FOLDER, 'folder')}` };
  throw new Error('projects: expected a list of project ids, { organization: ID } or { folder: ID }');
}

function digits(value: string | number, pattern: RegExp, what: string): string {
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? String(value) : String(value).trim();
  const match = pattern.exec(text);
  if (!match) throw new Error(`projects.${what}: ${JSON.stringify(value)} is not a ${what} id (digits, or ${what}s/DIGITS)`);
  return match[1]!;
}

/** The SearchProjects query for the projects whose immediate parent is `container`. */
export function projectsQuery(container: string): string {
  return `parent:${container}`;
}

/** A project as Resource Manager describes it (the fields the walk reads). */
export interface ListedProject {
  /** The user-assigned id, as Cloud KMS resource names carry it (`projects/{projectId}/...`). */
  projectId: string;
  /** ACTIVE, DELETE_REQUESTED, STATE_UNSPECIFIED. */
  state: string;
}

/** The hierarchy as the walk sees it; each answer is null when the call failed (already reported). */
export interface Hierarchy {
  /** The resource names (`folders/N`) of the ACTIVE folders directly beneath `container`. */
  childFolders(container: string): Promise<string[] | null>;
  /** The projects whose immediate parent is `container`. */
  projectsIn(container: string): Promise<ListedProject[] | null>;
}

export interface Discovered {
  /** ACTIVE project ids beneath the root, sorted, each once. */
  active: string[];
  /** Projects left out for their state (DELETE_REQUESTED and the like), sorted. */
  inactive: { projectId: string; state: string }[];
  /** Every container asked about: the root and each folder beneath it. */
  containers: string[];
  /** Containers whose folders or projects could not be listed. */
  incomplete: string[];
}

/** Walks the tree under `root` level by level, with at most `concurrency` calls in flight. */
export async function walkHierarchy(root: string, hierarchy: Hierarchy, concurrency: number): Promise<Discovered> {
  const seen = new Set<string>([root]);
  const containers: string[] = [];
  const incomplete = new Set<string>();
  const active = new Set<string>();
  const inactive = new Map<string, string>();
  let level = [root];
  while (level.length > 0) {
    containers.push(...level);
    const next: string[] = [];
    // A folder's child folders and its projects are two independent calls: both go through one limiter.
    const asks = level.flatMap((container) => [
      { container, kind: 'folders' as const },
      { container, kind: 'projects' as const },
    ]);
    const answers = mapBounded(asks, concurrency, async (ask) => ({ ask, answer: ask.kind === 'folders' ? await hierarchy.childFolders(ask.container) : await hierarchy.projectsIn(ask.container) }));
    for await (const { ask, answer } of answers) {
      if (answer === null) {
        incomplete.add(ask.container);
        continue;
      }
      if (ask.kind === 'folders') {
        // A folder seen twice (a move while the walk runs) is walked once; so is a cycle, were one reported.
        for (const folder of answer as string[]) {
          if (seen.has(folder)) continue;
          seen.add(folder);
          next.push(folder);
        }
        continue;
      }
      for (const project of answer as ListedProject[]) {
        if (!project.projectId) continue;
        if (project.state === 'ACTIVE') active.add(project.projectId);
        else inactive.set(project.projectId, project.state || 'STATE_UNSPECIFIED');
      }
    }
    level = next;
  }
  // A project found both ACTIVE and not (listed under two parents mid-move) is scanned.
  for (const id of active) inactive.delete(id);
  return {
    active: [...active].sort(),
    inactive: [...inactive].map(([projectId, state]) => ({ projectId, state })).sort((a, b) => (a.projectId < b.projectId ? -1 : a.projectId > b.projectId ? 1 : 0)),
    containers,
    incomplete: containers.filter((container) => incomplete.has(container)),
  };
}
