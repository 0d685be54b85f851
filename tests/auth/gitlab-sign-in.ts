import { Browser } from './browser';

/** Users of the GitLab stand-in's seed (stack/src/services/gitlab-standin/seed.json). */
export const standinUsers = {
  ada: { username: 'ada.analyst', password: 'ada-gitlab-password' },
  ben: { username: 'ben.bayes', password: 'ben-gitlab-password' },
} as const;

/** The opening tag of the first form with this id, and the page's `<input>` tags inside it. */
function formOf(html: string, id: string): { action: string; fields: URLSearchParams } | undefined {
  const start = html.search(new RegExp(`<form[^>]*id="${id}"`));
  if (start < 0) return undefined;
  const end = html.indexOf('</form>', start);
  const form = html.slice(start, end < 0 ? undefined : end);
  const action = /action="([^"]*)"/.exec(form)?.[1];
  if (action === undefined) return undefined;
  const fields = new URLSearchParams();
  for (const input of form.match(/<input[^>]*>/g) ?? []) {
    const name = /name="([^"]*)"/.exec(input)?.[1];
    if (!name) continue;
    fields.set(name, unescape(/value="([^"]*)"/.exec(input)?.[1] ?? ''));
  }
  return { action: unescape(action), fields };
}

function unescape(text: string): string {
  return text
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCharCode(parseInt(code, 16)));
}

/** The "GitLab" button of Keycloak's login page. */
export function gitlabButton(html: string): string {
  const tag = /<a[^>]*id="social-gitlab"[^>]*>/.exec(html)?.[0];
  const href = tag && /href="([^"]+)"/.exec(tag)?.[1];
  if (!href) throw new Error('the Keycloak login page has no GitLab button');
  return unescape(href);
}

/**
 * Signs a browser in at the gateway the way a person would with GitLab: Keycloak's login page,
 * its "GitLab" button, the stand-in's sign-in form, and on a first sign-in Keycloak's pages for
 * linking the GitLab identity to an existing user (confirm, then that user's password).
 * Resolves, once back at the gateway, to the Keycloak pages passed on the way; fails on any
 * unexpected page.
 */
export async function brokerSignIn(
  browser: Browser,
  options: {
    gatewayUrl: string;
    gitlab: { username: string; password: string };
    /** The Keycloak user to prove ownership of, when Keycloak asks to link. */
    keycloak?: { username: string; password: string };
  },
): Promise<string[]> {
  const login = await browser.follow(`${options.gatewayUrl}/auth/login?returnTo=/graphql`);
  if (login.response.status !== 200) throw new Error(`login page: ${login.response.status}`);
  const atGitLab = await browser.follow(
    new URL(gitlabButton(await login.response.text()), login.url).href,
  );
  const gitlabForm = formOf(await atGitLab.response.text(), 'new_user');
  if (!gitlabForm) throw new Error(`no GitLab sign-in form at ${atGitLab.url}`);
  gitlabForm.fields.set('user[login]', options.gitlab.username);
  gitlabForm.fields.set('user[password]', options.gitlab.password);

  let page = await browser.follow(new URL(gitlabForm.action, atGitLab.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: gitlabForm.fields,
  });
  const seen: string[] = [];
  for (let step = 0; step < 6; step += 1) {
    if (page.url.startsWith(`${options.gatewayUrl}/graphql`)) return seen;
    const html = await page.response.text();
    let form = formOf(html, 'kc-idp-review-profile-form') ?? formOf(html, 'kc-update-profile-form');
    if (form) {
      seen.push('review profile');
    } else if ((form = formOf(html, 'kc-register-form'))) {
      // "Account already exists": link it rather than review the profile.
      seen.push('confirm link');
      form.fields.set('submitAction', 'linkAccount');
    } else if ((form = formOf(html, 'kc-form-login'))) {
      if (!options.keycloak) throw new Error('Keycloak asks for a password to link the account');
      seen.push('re-authenticate');
      form.fields.set('username', options.keycloak.username);
      form.fields.set('password', options.keycloak.password);
    } else {
      throw new Error(
        `unexpected page ${page.url} (${page.response.status}) after ${seen.join(', ')}:\n${html.slice(0, 3000)}`,
      );
    }
    page = await browser.follow(new URL(form.action, page.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.fields,
    });
  }
  throw new Error(`no way back to the gateway after ${seen.join(', ')}`);
}
