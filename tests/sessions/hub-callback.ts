import { hubOAuthClient } from '../../stack/src/services/jupyterhub';
import type { Keycloak } from '../../stack/src/services/keycloak';
import { masterAdminToken } from '../auth/keycloak-admin';

/** Lets Keycloak send people back to a test's hub, whose port the realm cannot know. */
export async function allowHubCallback(keycloak: Keycloak, callback: string): Promise<void> {
  const token = await masterAdminToken(keycloak);
  const clients = `${keycloak.url}/admin/realms/renku/clients`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const [client] = (await (
    await fetch(`${clients}?clientId=${hubOAuthClient.id}`, { headers })
  ).json()) as { id: string; redirectUris: string[] }[];
  const updated = await fetch(`${clients}/${client.id}`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ ...client, redirectUris: [...client.redirectUris, callback] }),
  });
  if (updated.status !== 204) {
    throw new Error(`Keycloak did not take the hub's callback (HTTP ${updated.status})`);
  }
}
