/**
 * Just enough of a browser for sign-in flows: fetch with manual redirects and
 * a cookie jar per host. Cookie paths and expiry dates are not modelled.
 */
export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();
  /** Every Set-Cookie header seen, for checking cookie attributes. */
  readonly setCookies: string[] = [];

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const host = new URL(url).host;
    const cookies = [...(this.jar.get(host) ?? new Map<string, string>())]
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const headers = new Headers(init.headers);
    if (cookies) headers.set('cookie', cookies);

    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair, ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired =
        value === '' ||
        attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute)) ||
        attributes.some(
          (attribute) =>
            /^\s*expires=/i.test(attribute) && Date.parse(attribute.split('=')[1]) <= Date.now(),
        );
      const hostCookies = this.jar.get(host) ?? new Map<string, string>();
      if (expired) hostCookies.delete(name);
      else hostCookies.set(name, value);
      this.jar.set(host, hostCookies);
    }
    return response;
  }

  /** Follows redirects from `url`; returns the first answer that is not a redirect. */
  async follow(url: string, init: RequestInit = {}): Promise<{ response: Response; url: string }> {
    let response = await this.fetch(url, init);
    let current = url;
    for (let hops = 0; response.status >= 300 && response.status < 400; hops += 1) {
      if (hops > 10) throw new Error(`too many redirects from ${url}`);
      current = new URL(response.headers.get('location')!, current).href;
      response = await this.fetch(current);
    }
    return { response, url: current };
  }

  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name);
  }
}

/** The action of Keycloak's login form, from its HTML. */
export function loginFormAction(html: string): string {
  const form = /<form[^>]*id="kc-form-login"[^>]*>/.exec(html)?.[0];
  const action = form && /action="([^"]+)"/.exec(form)?.[1];
  if (!action) throw new Error('the page has no Keycloak login form');
  return action.replace(/&amp;/g, '&');
}
