import crypto from 'node:crypto';

/** Git's file modes as GitLab's tree API shows them. */
const treeMode = '040000';
const blobMode = '100644';

export interface TreeEntry {
  /** The SHA-1 of the Git object: a blob, or a tree. */
  id: string;
  name: string;
  type: 'tree' | 'blob';
  path: string;
  mode: string;
}

export interface Blob {
  id: string;
  path: string;
  content: Buffer;
}

/**
 * The files of one commit as Git stores them: blobs named by the SHA-1 of their content and
 * trees by the SHA-1 of their entries, so that ids are those `git` itself would compute.
 */
export class RepositorySnapshot {
  private readonly blobs = new Map<string, Blob>();
  private readonly trees = new Map<string, TreeEntry[]>();

  constructor(files: Map<string, Buffer>) {
    this.trees.set('', []);
    for (const [path, content] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const blob = { id: gitObjectId('blob', content), path, content };
      this.blobs.set(path, blob);
      this.addEntry(path, {
        id: blob.id,
        name: baseName(path),
        type: 'blob',
        path,
        mode: blobMode,
      });
    }
    this.treeId('');
  }

  blob(path: string): Blob | undefined {
    return this.blobs.get(path);
  }

  /** Whether `path` names a folder; '' is the root. */
  hasTree(path: string): boolean {
    return this.trees.has(path);
  }

  /**
   * The entries of a folder, folders first and each kind by name, as GitLab lists them;
   * `recursive` adds everything below, each folder followed by its contents.
   */
  entries(path: string, recursive: boolean): TreeEntry[] {
    const listed: TreeEntry[] = [];
    const byKindThenName = (a: TreeEntry, b: TreeEntry) =>
      a.type !== b.type ? (a.type === 'tree' ? -1 : 1) : a.name < b.name ? -1 : 1;
    for (const entry of [...(this.trees.get(path) ?? [])].sort(byKindThenName)) {
      listed.push(entry);
      if (recursive && entry.type === 'tree') listed.push(...this.entries(entry.path, true));
    }
    return listed;
  }

  /** The byte sizes of all blobs. */
  size(): number {
    return [...this.blobs.values()].reduce((sum, blob) => sum + blob.content.length, 0);
  }

  private addEntry(path: string, entry: TreeEntry): void {
    const parent = parentOf(path);
    if (!this.trees.has(parent)) {
      this.trees.set(parent, []);
      this.addEntry(parent, {
        id: '',
        name: baseName(parent),
        type: 'tree',
        path: parent,
        mode: treeMode,
      });
    }
    this.trees.get(parent)!.push(entry);
  }

  /** Fills in tree ids bottom-up: Git hashes a tree from its entries' modes, names and ids. */
  private treeId(path: string): string {
    const entries = this.trees.get(path)!;
    for (const entry of entries) if (entry.type === 'tree') entry.id = this.treeId(entry.path);
    // Git sorts a tree's entries by name, comparing a folder as if its name ended in `/`.
    const key = (entry: TreeEntry) =>
      Buffer.from(entry.type === 'tree' ? `${entry.name}/` : entry.name);
    const body = Buffer.concat(
      [...entries]
        .sort((a, b) => Buffer.compare(key(a), key(b)))
        .map((entry) =>
          Buffer.concat([
            Buffer.from(`${entry.type === 'tree' ? '40000' : blobMode} ${entry.name}\0`),
            Buffer.from(entry.id, 'hex'),
          ]),
        ),
    );
    return gitObjectId('tree', body);
  }
}

function gitObjectId(kind: 'blob' | 'tree', body: Buffer): string {
  return crypto
    .createHash('sha1')
    .update(Buffer.concat([Buffer.from(`${kind} ${body.length}\0`), body]))
    .digest('hex');
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
