import { createHash, createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { packageDir, startGcpKmsServer, type ExtraGrpcService, type GcpEstate, type GcpFault, type GcpKmsServer } from './gcp-kms-server.ts';

// Cloud Resource Manager v3 for tests, answering on the Cloud KMS test server's port (one
// `endpoint` serves both clients, as the public endpoints of one universe do). Built, like that
// server, from the .proto files the client ships (@google-cloud/resource-manager build/protos and
// the google-gax copy it loads), with the proto-loader options google-gax uses. It serves an
// in-memory organization: folders (nested) and projects, each with a parent and a state.
//
//   google.cloud.resourcemanager.v3.Projects  SearchProjects   (every other method: UNIMPLEMENTED)
//   google.cloud.resourcemanager.v3.Folders   ListFolders      (every other method: UNIMPLEMENTED)
//
// What it does as the real service does (the protos' comments and the API reference):
//   - SearchProjects: the `query` is `field:value` (or `field=value`), case-insensitive, a value
//     may end with the suffix wildcard `*`; the fields served are `parent` (a project's immediate
//     parent: `folders/123`, `organizations/*`), `parent.type` (`folder`/`organization`),
//     `parent.id`, `id`/`projectId`, `state`/`lifecycleState`, `displayName`/`name`. An empty query
//     returns every project. The answer is every matching project, DELETE_REQUESTED ones included
//     (nothing in the reference says search leaves them out): a caller wanting ACTIVE ones judges
//     `state` itself;
//   - ListFolders: the folders whose parent is `parent` (direct descendants only), sorted by
//     display_name, DELETE_REQUESTED ones only with show_deleted; a parent that is not
//     `organizations/N` or `folders/N` → INVALID_ARGUMENT; one that does not exist →
//     PERMISSION_DENIED, as the service answers for what the caller may not see;
//   - Project: name `projects/{number}`, project_id, parent, state, display_name, labels,
//     create_time, update_time, delete_time (when DELETE_REQUESTED), etag; Folder: name
//     `folders/{id}`, parent, display_name, state, create_time, update_time, delete_time, etag;
//   - pagination: page_size honoured up to 100 (the reference names no default or maximum, "the
//     server can return fewer"), 0 = 100, negative → INVALID_ARGUMENT; an opaque next_page_token,
//     '' on the last page; a token not issued for this method and query/parent → INVALID_ARGUMENT.
// What it does not do: a query of more than one term (→ INVALID_ARGUMENT: the reference says such a
// query matches "any of the fields", while one of its own examples reads as "and", so a caller
// relying on either fails here loudly instead), `labels` terms, per-project visibility (every
// project is visible to the caller), authentication (any credentials, or none, are accepted).
//
// Faults (setFaults): a request whose method matches, and whose parent matches when `parent` is
// given (SearchProjects: the value of its `parent:` term), fails with the fault's gRPC status;
// `times` limits how many requests get it. Every request is recorded in `calls`.

export interface GcpOrganization {
  /** The organization's numeric id. */
  organization: string;
  folders: GcpFolder[];
  projects: GcpProject[];
}

export interface GcpFolder {
  /** The folder's numeric id. */
  id: string;
  /** `organizations/{id}` or `folders/{id}`. */
  parent: string;
  displayName: string;
  /** Default ACTIVE. */
  state?: 'ACTIVE' | 'DELETE_REQUESTED';
}

export interface GcpProject {
  /** The user-assigned id (6-30 lowercase letters, digits, hyphens; starts with a letter). */
  projectId: string;
  /** `organizations/{id}` or `folders/{id}`. */
  parent: string;
  /** Default ACTIVE. */
  state?: 'ACTIVE' | 'DELETE_REQUESTED';
  displayName?: string;
  labels?: Record<string, string>;
}

export type ResourceManagerMethod = 'SearchProjects' | 'ListFolders';

export interface ResourceManagerFault {
  method: ResourceManagerMethod;
  /** ListFolders: the request's parent; SearchProjects: the value of the query's `parent:` term. Default any. */
  parent?: string;
  code: 'PERMISSION_DENIED' | 'UNAVAILABLE' | 'RESOURCE_EXHAUSTED';
  /** How many matching requests get the fault; default Infinity. */
  times?: number;
}

export interface ResourceManagerCall {
  method: string;
  /** ListFolders: the parent; SearchProjects: the query. */
  target: string;
  pageSize: number;
  pageToken: string;
  fault?: string;
}

export interface ResourceManagerService {
  /** Give this to startGcpKmsServer's `services`. */
  services: ExtraGrpcService[];
  calls: ResourceManagerCall[];
  setOrganization(organization: GcpOrganization): void;
  setFaults(faults: ResourceManagerFault[]): void;
}

export const RESOURCE_MANAGER_PAGE_SIZE = 100;
const CREATE_TIME = { seconds: String(Date.parse('2024-01-01T00:00:00Z') / 1000), nanos: 0 };
const DELETE_TIME = { seconds: String(Date.parse('2026-10-01T00:00:00Z') / 1000), nanos: 0 };

// ---------------------------------------------------------------------------------------------
// Protos

const RM_DIR = packageDir('@google-cloud/resource-manager', import.meta.url);
const GAX_DIR = packageDir('google-gax', path.join(RM_DIR, 'package.json'));

let definitions: protoLoader.PackageDefinition | undefined;
function serviceDefinition(name: string): grpc.ServiceDefinition {
  definitions ??= protoLoader.loadSync(['google/cloud/resourcemanager/v3/projects.proto', 'google/cloud/resourcemanager/v3/folders.proto'], {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [path.join(RM_DIR, 'build', 'protos'), path.join(GAX_DIR, 'build', 'protos')],
  });
  const def = definitions[name];
  if (def === undefined || 'format' in def) throw new Error(`${name} is not a service in the loaded protos`);
  return def as unknown as grpc.ServiceDefinition;
}

// ---------------------------------------------------------------------------------------------
// Errors and pages

interface StatusError {
  code: grpc.status;
  details: string;
}
const statusError = (code: grpc.status, details: string): StatusError => ({ code, details });
const invalid = (details: string): StatusError => statusError(grpc.status.INVALID_ARGUMENT, details);

class Pager {
  readonly #secret = randomBytes(16);
  #sign = (body: string): string => createHmac('sha256', this.#secret).update(body).digest('base64url').slice(0, 16);

  page<T>(method: string, scope: string, request: { pageSize: number; pageToken: string }, items: T[]): { items: T[]; nextPageToken: string } {
    if (request.pageSize < 0) throw invalid(`page_size must be non-negative, got ${request.pageSize}.`);
    const size = request.pageSize === 0 ? RESOURCE_MANAGER_PAGE_SIZE : Math.min(request.pageSize, RESOURCE_MANAGER_PAGE_SIZE);
    let offset = 0;
    if (request.pageToken !== '') {
      const [body, signature] = request.pageToken.split('.');
      if (body === undefined || signature === undefined || this.#sign(body) !== signature) throw invalid('Invalid page_token.');
      const decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { m: string; s: string; o: number };
      if (decoded.m !== method || decoded.s !== scope) throw invalid('Invalid page_token.');
      offset = Math.min(decoded.o, items.length);
    }
    const end = offset + size;
    if (end >= items.length) return { items: items.slice(offset), nextPageToken: '' };
    const body = Buffer.from(JSON.stringify({ m: method, s: scope, o: end })).toString('base64url');
    return { items: items.slice(offset, end), nextPageToken: `${body}.${this.#sign(body)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Queries

const FIELDS: Record<string, (project: GcpProject) => string[]> = {
  parent: (project) => [project.parent],
  'parent.type': (project) => [project.parent.startsWith('folders/') ? 'folder' : 'organization'],
  'parent.id': (project) => [project.parent.slice(project.parent.indexOf('/') + 1)],
  id: (project) => [project.projectId],
  projectid: (project) => [project.projectId],
  state: (project) => [project.state ?? 'ACTIVE'],
  lifecyclestate: (project) => [project.state ?? 'ACTIVE'],
  displayname: (project) => [project.displayName ?? project.projectId],
  name: (project) => [project.displayName ?? project.projectId],
};

interface Term {
  field: string;
  value: string;
}

/** The one term of a SearchProjects query, or null for an empty query (every project). */
export function parseProjectQuery(query: string): Term | null {
  const text = query.trim();
  if (text === '') return null;
  const terms = text.split(/\s+/);
  if (terms.length > 1) throw invalid(`The keydrift test server does not combine query terms (got ${JSON.stringify(query)}).`);
  const match = /^([A-Za-z.]+)[:=](.+)$/.exec(text);
  if (!match) throw invalid(`Invalid query: ${JSON.stringify(query)} is not field:value.`);
  const field = match[1]!.toLowerCase();
  if (!(field in FIELDS)) throw invalid(`Invalid query: the field ${JSON.stringify(match[1])} is not one the keydrift test server searches.`);
  return { field, value: match[2]! };
}

function matches(project: GcpProject, term: Term | null): boolean {
  if (term === null) return true;
  const wanted = term.value.toLowerCase();
  return FIELDS[term.field]!(project).some((value) => {
    const have = value.toLowerCase();
    return wanted.endsWith('*') ? have.startsWith(wanted.slice(0, -1)) : have === wanted;
  });
}

// ---------------------------------------------------------------------------------------------
// Estate

const NUMERIC = /^[1-9]\d{0,17}$/;
const PROJECT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const PARENT = /^(organizations|folders)\/(\d+)$/;

function validate(organization: GcpOrganization): void {
  if (!NUMERIC.test(organization.organization)) throw new Error(`organization id ${JSON.stringify(organization.organization)} is not numeric`);
  const folders = new Set<string>();
  for (const folder of organization.folders) {
    if (!NUMERIC.test(folder.id) || folders.has(folder.id)) throw new Error(`folder id ${JSON.stringify(folder.id)} is not numeric or not unique`);
    folders.add(folder.id);
  }
  const parentExists = (parent: string): boolean => {
    const match = PARENT.exec(parent);
    return match !== null && (match[1] === 'organizations' ? match[2] === organization.organization : folders.has(match[2]!));
  };
  for (const folder of organization.folders) {
    if (!parentExists(folder.parent)) throw new Error(`folder ${folder.id}: parent ${folder.parent} does not exist`);
  }
  const ids = new Set<string>();
  for (const project of organization.projects) {
    if (!PROJECT_ID.test(project.projectId) || ids.has(project.projectId)) throw new Error(`project id ${JSON.stringify(project.projectId)} is not valid or not unique`);
    ids.add(project.projectId);
    if (!parentExists(project.parent)) throw new Error(`project ${project.projectId}: parent ${project.parent} does not exist`);
  }
}

/** A stable 12-digit project number for a project id. */
function projectNumber(projectId: string): string {
  return String(createHash('sha256').update(projectId).digest().readUIntBE(0, 5) % 1e12).padStart(12, '1');
}

const etag = (value: unknown): string => `W/"${createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 12)}"`;

function projectMessage(project: GcpProject): Record<string, unknown> {
  const state = project.state ?? 'ACTIVE';
  return {
    name: `projects/${projectNumber(project.projectId)}`,
    parent: project.parent,
    projectId: project.projectId,
    state,
    displayName: project.displayName ?? project.projectId,
    createTime: CREATE_TIME,
    updateTime: CREATE_TIME,
    ...(state === 'DELETE_REQUESTED' ? { deleteTime: DELETE_TIME } : {}),
    etag: etag(project),
    labels: { ...(project.labels ?? {}) },
  };
}

function folderMessage(folder: GcpFolder): Record<string, unknown> {
  const state = folder.state ?? 'ACTIVE';
  return {
    name: `folders/${folder.id}`,
    parent: folder.parent,
    displayName: folder.displayName,
    state,
    createTime: CREATE_TIME,
    updateTime: CREATE_TIME,
    ...(state === 'DELETE_REQUESTED' ? { deleteTime: DELETE_TIME } : {}),
    etag: etag(folder),
  };
}

// ---------------------------------------------------------------------------------------------
// The services

interface SearchProjectsRequest {
  query: string;
  pageSize: number;
  pageToken: string;
}
interface ListFoldersRequest {
  parent: string;
  pageSize: number;
  pageToken: string;
  showDeleted: boolean;
}

/** Resource Manager's Projects and Folders services over `organization`, to serve beside Cloud KMS. */
export function resourceManagerService(initial: GcpOrganization): ResourceManagerService {
  validate(initial);
  let organization = structuredClone(initial);
  let faults: { fault: ResourceManagerFault; remaining: number }[] = [];
  const calls: ResourceManagerCall[] = [];
  const pager = new Pager();

  const exists = (parent: string): boolean => {
    const match = PARENT.exec(parent);
    return match !== null && (match[1] === 'organizations' ? match[2] === organization.organization : organization.folders.some((folder) => folder.id === match[2]));
  };

  const handlers: Record<string, (request: never) => Record<string, unknown>> = {
    SearchProjects: (request: SearchProjectsRequest) => {
      const term = parseProjectQuery(request.query);
      const found = organization.projects.filter((project) => matches(project, term)).map(projectMessage);
      const page = pager.page('SearchProjects', request.query, request, found);
      return { projects: page.items, nextPageToken: page.nextPageToken };
    },
    ListFolders: (request: ListFoldersRequest) => {
      if (!PARENT.test(request.parent)) throw invalid(`Invalid parent: ${JSON.stringify(request.parent)} is not organizations/{id} or folders/{id}.`);
      if (!exists(request.parent)) throw statusError(grpc.status.PERMISSION_DENIED, `Permission 'resourcemanager.folders.list' denied on resource '${request.parent}' (or it may not exist).`);
      const children = organization.folders
        .filter((folder) => folder.parent === request.parent && (request.showDeleted || (folder.state ?? 'ACTIVE') === 'ACTIVE'))
        .sort((a, b) => (a.displayName < b.displayName ? -1 : a.displayName > b.displayName ? 1 : 0))
        .map(folderMessage);
      const page = pager.page('ListFolders', `${request.parent}|${request.showDeleted}`, request, children);
      return { folders: page.items, nextPageToken: page.nextPageToken };
    },
  };

  const takeFault = (method: string, parent: string): ResourceManagerFault | undefined => {
    for (const active of faults) {
      if (active.fault.method !== method || active.remaining <= 0) continue;
      if (active.fault.parent !== undefined && active.fault.parent !== parent) continue;
      active.remaining -= 1;
      return active.fault;
    }
    return undefined;
  };

  const unary =
    (method: string, serviceName: string) =>
    (call: grpc.ServerUnaryCall<Record<string, unknown>, Record<string, unknown>>, callback: grpc.sendUnaryData<Record<string, unknown>>): void => {
      const request = call.request;
      const handler = handlers[method];
      if (handler === undefined) {
        callback(statusError(grpc.status.UNIMPLEMENTED, `Method ${serviceName}/${method} is not implemented by the keydrift test server.`));
        return;
      }
      const target = String(request['parent'] ?? request['query'] ?? '');
      const entry: ResourceManagerCall = { method, target, pageSize: Number(request['pageSize'] ?? 0), pageToken: String(request['pageToken'] ?? '') };
      calls.push(entry);
      const parent = method === 'SearchProjects' ? (/(?:^|\s)parent[:=](\S+)/i.exec(target)?.[1] ?? '') : target;
      const fault = takeFault(method, parent);
      if (fault !== undefined) {
        entry.fault = fault.code;
        const permission = method === 'ListFolders' ? 'resourcemanager.folders.list' : 'resourcemanager.projects.get';
        const details =
          fault.code === 'PERMISSION_DENIED'
            ? `Permission '${permission}' denied on resource '${parent}' (or it may not exist).`
            : fault.code === 'UNAVAILABLE'
              ? 'The service is currently unavailable.'
              : "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'cloudresourcemanager.googleapis.com'.";
        callback(statusError(grpc.status[fault.code], details));
        return;
      }
      try {
        callback(null, handler(request as never));
      } catch (error) {
        const status = error as Partial<StatusError>;
        callback(typeof status.code === 'number' && typeof status.details === 'string' ? (status as StatusError) : statusError(grpc.status.INTERNAL, String((error as Error)?.stack ?? error)));
      }
    };

  const services = (['google.cloud.resourcemanager.v3.Projects', 'google.cloud.resourcemanager.v3.Folders'] as const).map((serviceName) => {
    const definition = serviceDefinition(serviceName);
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [key, method] of Object.entries(definition)) {
      if (method.requestStream || method.responseStream) continue;
      implementation[key] = unary(method.path.slice(method.path.lastIndexOf('/') + 1), serviceName);
    }
    return { definition, implementation };
  });

  return {
    services,
    calls,
    setOrganization(next) {
      validate(next);
      organization = structuredClone(next);
    },
    setFaults(list) {
      faults = list.map((fault) => ({ fault: { ...fault }, remaining: fault.times ?? Infinity }));
    },
  };
}

export interface GcpOrganizationServer extends GcpKmsServer {
  resourceManager: ResourceManagerService;
}

/** The Cloud KMS test server with Resource Manager on the same port. */
export async function startGcpOrganizationServer(estate: GcpEstate, organization: GcpOrganization, options: { faults?: GcpFault[] } = {}): Promise<GcpOrganizationServer> {
  const resourceManager = resourceManagerService(organization);
  const kms = await startGcpKmsServer(estate, { ...options, services: resourceManager.services });
  return Object.assign(kms, { resourceManager });
}
