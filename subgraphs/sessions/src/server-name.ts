import crypto from 'node:crypto';

export interface SessionTarget {
  /** `namespace/slug`; the namespace may hold several segments. */
  project: string;
  commit: string;
  branch?: string;
}

const slugLength = 24;

/**
 * The JupyterHub server name of a session: a slug of the project for people to recognise,
 * then a hash of everything that tells sessions apart, so one commit (on one branch) of one
 * project is one server. Only `[a-z0-9-]`: server names end up in URL paths, where JupyterHub
 * forbids `/`.
 */
export function serverName(target: SessionTarget): string {
  const slug = slugify(target.project.split('/').pop() ?? '') || 'session';
  const identity = JSON.stringify([
    target.project.toLowerCase(),
    target.branch ?? '',
    target.commit.toLowerCase(),
  ]);
  const hash = crypto.createHash('sha256').update(identity).digest('hex').slice(0, 10);
  return `${slug}-${hash}`;
}

function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, slugLength)
    .replace(/^-+|-+$/g, '');
}
