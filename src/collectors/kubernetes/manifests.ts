import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node, type YAMLMap } from 'yaml';
import { PositionedSyntaxError, type TextPosition as Position } from '../../util/positioned-error.ts';

// A manifest file read the way kubectl and Helm write them: any number of YAML documents (JSON is
// YAML), each an object or a `List` of objects, keeping the nodes so every value keeps its line and
// column. Documents that are not Kubernetes objects (no apiVersion and kind) are skipped silently:
// a glob such as **/*.yaml meets values files and CI configs too.

export type { TextPosition as Position } from '../../util/positioned-error.ts';

export class ManifestSyntaxError extends PositionedSyntaxError {}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  body: YAMLMap;
  /** Where the object starts: its first key. */
  at: Position;
  /** The chart template a Helm-rendered document came from (its `# Source:` comment), else null. */
  helmSource: string | null;
}

/** A value read from an object, with the position of the key that sets it; `at` is null when absent. */
export interface Field {
  value: unknown;
  at: Position | null;
}

export class Manifest {
  readonly objects: ManifestObject[];
  private readonly lines: LineCounter;

  private constructor(objects: ManifestObject[], lines: LineCounter) {
    this.objects = objects;
    this.lines = lines;
  }

  /** Throws ManifestSyntaxError at the first document that is not valid YAML: kubectl would refuse the whole file. */
  static parse(text: string): Manifest {
    const lines = new LineCounter();
    const documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const position = (offset: number): Position => {
      const at = lines.linePos(offset);
      return { line: at.line, column: at.col };
    };
    // An empty file parses to an empty stream, not an array.
    if (!Array.isArray(documents)) return new Manifest([], lines);
    const objects: ManifestObject[] = [];
    for (const document of documents) {
      const error = document.errors[0];
      if (error) throw new ManifestSyntaxError(error.message.split('\n')[0]!, position(error.pos[0]));
      const root = document.contents;
      if (!isMap(root)) continue;
      const helmSource = helmSourceOf(document.commentBefore ?? root.commentBefore ?? null);
      for (const body of listItems(root)) {
        const apiVersion = body.get('apiVersion');
        const kind = body.get('kind');
        if (typeof apiVersion !== 'string' || typeof kind !== 'string') continue;
        objects.push({ apiVersion, kind, body, at: position(body.range?.[0] ?? 0), helmSource });
      }
    }
    return new Manifest(objects, lines);
  }

  position(node: Node | null | undefined): Position {
    const at = this.lines.linePos(node?.range?.[0] ?? 0);
    return { line: at.line, column: at.col };
  }

  /** The plain value at `path` under `map` and the position of its key; absent when any step is missing or not a map. */
  field(map: YAMLMap, path: readonly string[]): Field {
    let current: YAMLMap = map;
    for (const [index, name] of path.entries()) {
      const pair = current.items.find((candidate) => isScalar(candidate.key) && candidate.key.value === name);
      if (!pair) return { value: undefined, at: null };
      const last = index === path.length - 1;
      if (last) {
        const value = pair.value;
        return { value: isScalar(value) ? value.value : (value as Node | null)?.toJSON?.() ?? null, at: this.position(pair.key as Node) };
      }
      if (!isMap(pair.value)) return { value: undefined, at: null };
      current = pair.value;
    }
    return { value: undefined, at: null };
  }
}

/** `kind: List` (kubectl get -o yaml) or `kind: <X>List`: its items; any other object: itself. */
function listItems(root: YAMLMap): YAMLMap[] {
  const kind = root.get('kind');
  const items = root.get('items', true);
  if (typeof kind === 'string' && kind.endsWith('List') && isSeq(items)) return items.items.filter((item): item is YAMLMap => isMap(item));
  return [root];
}

function helmSourceOf(comment: string | null): string | null {
  const match = comment?.match(/^\s*Source:\s*(\S.*?)\s*$/m);
  return match ? match[1]! : null;
}
