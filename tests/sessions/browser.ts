import http from 'node:http';

/**
 * Just enough of a browser for sign-in flows: it follows redirects and keeps cookies the way
 * browsers do on one host name (ports share cookies; paths scope them).
 */
export class Browser {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  /** Fetches `url` and follows redirects; answers the last response and its body. */
  async open(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ status: number; url: string; body: string }> {
    let method = init.method ?? 'GET';
    let body: string | undefined = init.form
      ? new URLSearchParams(init.form).toString()
      : undefined;
    let current = url;
    for (let hops = 0; hops < 20; hops++) {
      const response = await request(current, {
        method,
        headers: {
          accept: 'text/html,application/json',
          // What browsers send on a top-level navigation; JupyterHub trusts cookies on a page
          // load only with it (its protection against cross-site requests).
          'sec-fetch-mode': 'navigate',
          ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
          ...this.cookieHeader(current),
        },
        body,
      });
      this.remember(current, response.setCookies);
      const location = response.location;
      if (response.status >= 300 && response.status < 400 && location) {
        current = new URL(location, current).toString();
        // Every redirect in these flows (302/303) turns a form post into a plain GET.
        method = 'GET';
        body = undefined;
        continue;
      }
      return { status: response.status, url: current, body: response.body };
    }
    throw new Error(`more than 20 redirects from ${url}`);
  }

  /** Fills in and submits the first form on the page whose id is `formId`. */
  async submit(
    page: { url: string; body: string },
    formId: string,
    fields: Record<string, string>,
  ): Promise<{ status: number; url: string; body: string }> {
    const form = new RegExp(`<form[^>]*id="${formId}"[^>]*>`).exec(page.body)?.[0];
    const action = form && /action="([^"]+)"/.exec(form)?.[1];
    if (!action) throw new Error(`no form ${formId} on ${page.url}`);
    const target = new URL(action.replace(/&amp;/g, '&'), page.url).toString();
    return this.open(target, { method: 'POST', form: fields });
  }

  private cookieHeader(url: string): Record<string, string> {
    const { pathname } = new URL(url);
    const sent = [...this.cookies.values()]
      .filter((cookie) => pathname.startsWith(cookie.path))
      .map((cookie) => `${cookie.name}=${cookie.value}`);
    return sent.length > 0 ? { cookie: sent.join('; ') } : {};
  }

  private remember(url: string, setCookies: string[]): void {
    for (const header of setCookies) {
      const [pair, ...attributes] = header.split(';').map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const pathAttribute = attributes.find((part) => /^path=/i.test(part));
      const cookiePath = pathAttribute ? pathAttribute.slice(5) : defaultPath(url);
      const expired = attributes.some(
        (part) =>
          /^max-age=(0|-)/i.test(part) ||
          (/^expires=/i.test(part) && Date.parse(part.slice(8)) < Date.now()),
      );
      const key = `${name} ${cookiePath}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path: cookiePath });
    }
  }
}

interface Answer {
  status: number;
  location?: string;
  setCookies: string[];
  body: string;
}

/**
 * Plain HTTP rather than fetch: fetch replaces `Sec-Fetch-Mode` with its own `cors`, and
 * JupyterHub then rightly refuses to trust a cookie without an XSRF token.
 */
function request(
  url: string,
  options: { method: string; headers: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = http.request(url, { method: options.method, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          setCookies: res.headers['set-cookie'] ?? [],
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    sent.on('error', reject);
    sent.end(options.body);
  });
}

function defaultPath(url: string): string {
  const { pathname } = new URL(url);
  return pathname.slice(0, pathname.lastIndexOf('/') + 1) || '/';
}
