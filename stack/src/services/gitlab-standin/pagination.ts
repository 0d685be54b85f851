import type { Request, Response } from 'express';

/** GitLab's own bounds: `per_page` defaults to 20 and is cut to 100. */
const defaultPerPage = 20;
const maxPerPage = 100;

/** A query parameter GitLab would refuse with 400, such as `page=0`. */
export class BadParameter extends Error {}

/**
 * Answers one page of `items` the way GitLab's offset pagination does: the page in the body,
 * its position in `X-*` headers and an RFC 8288 `Link` header whose URLs keep every other
 * query parameter of the request.
 */
export function sendPage<T>(req: Request, res: Response, web: string, items: T[]): void {
  const page = readPositive(req, 'page') ?? 1;
  const perPage = Math.min(readPositive(req, 'per_page') ?? defaultPerPage, maxPerPage);
  const total = items.length;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const inRange = page <= totalPages;

  const link = (target: number) => {
    const url = new URL(req.originalUrl, web);
    url.searchParams.set('page', String(target));
    url.searchParams.set('per_page', String(perPage));
    return `${web}${url.pathname}${url.search}`;
  };
  const links: string[] = [];
  const prev = inRange && page > 1 ? page - 1 : undefined;
  const next = page < totalPages ? page + 1 : undefined;
  if (prev) links.push(`<${link(prev)}>; rel="prev"`);
  if (next) links.push(`<${link(next)}>; rel="next"`);
  links.push(`<${link(1)}>; rel="first"`, `<${link(totalPages)}>; rel="last"`);

  res.set({
    'X-Page': String(page),
    'X-Per-Page': String(perPage),
    'X-Next-Page': next ? String(next) : '',
    'X-Prev-Page': prev ? String(prev) : '',
    'X-Total': String(total),
    'X-Total-Pages': String(totalPages),
    Link: links.join(', '),
  });
  res.json(items.slice((page - 1) * perPage, page * perPage));
}

function readPositive(req: Request, name: string): number | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1)) throw new BadParameter(`${name} is invalid`);
  return value;
}
