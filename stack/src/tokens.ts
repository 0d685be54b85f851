/**
 * Signs a user in with the resource-owner password grant of the public
 * command-line client, as the README's example and the tests do. Real
 * command-line users would use the device flow of the same client.
 */
export async function passwordGrant(options: {
  issuer: string;
  username: string;
  password: string;
  clientId?: string;
}): Promise<string> {
  const response = await fetch(`${options.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: options.clientId ?? 'renku-cli',
      username: options.username,
      password: options.password,
      scope: 'openid',
    }),
  });
  const body = (await response.json()) as { access_token?: string; error_description?: string };
  if (!response.ok || !body.access_token) {
    throw new Error(
      `sign-in of ${options.username} failed: ${body.error_description ?? response.status}`,
    );
  }
  return body.access_token;
}
