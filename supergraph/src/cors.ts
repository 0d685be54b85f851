import { ErrorCode } from '@renku-supergraph/kit';
import type { RequestHandler } from 'express';

/** Preflight answers are cached this long by browsers (Chromium caps it at 2 hours). */
const preflightMaxAgeSec = 600;

/**
 * Cross-origin access for the listed origins only, with credentials, so a web
 * app on another origin can send the browser's session cookie. Any other
 * origin gets no CORS headers at all: the browser then keeps our answers from
 * its scripts, and Apollo's CSRF prevention (on in serveGraphQL) stops it from
 * making side effects with requests that skip the preflight.
 */
export function corsAllowList(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);

  return (req, res, next) => {
    const origin = req.headers.origin;
    // Answers differ by Origin, so shared caches must key on it.
    res.vary('Origin');
    const preflight = req.method === 'OPTIONS' && !!req.headers['access-control-request-method'];

    if (!origin || !allowed.has(origin)) {
      if (!preflight) return next();
      res.status(403).json({
        errors: [
          {
            message: 'this origin may not call the API',
            extensions: { code: ErrorCode.Forbidden },
          },
        ],
      });
      return;
    }

    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (!preflight) return next();

    res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
    // The origin is trusted: allow the headers its client asks for (Apollo
    // Client adds its own, tracing adds `traceparent`).
    const headers = req.headers['access-control-request-headers'];
    if (headers) res.setHeader('Access-Control-Allow-Headers', headers);
    res.setHeader('Access-Control-Max-Age', String(preflightMaxAgeSec));
    res.vary('Access-Control-Request-Headers');
    res.status(204).end();
  };
}
