import net from 'node:net';

import { provisionKeycloak, startKeycloak } from '../../stack/src/services/keycloak';

describe('Keycloak starter', () => {
  let holder: net.Server;
  let port: number;

  beforeAll(async () => {
    await provisionKeycloak();
    holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as net.AddressInfo).port;
  }, 900_000);

  afterAll(async () => {
    await new Promise((resolve) => holder?.close(resolve));
  });

  it('refuses to start on a port in use and names it', async () => {
    await expect(startKeycloak({ httpPort: port })).rejects.toThrow(
      `port ${port} for Keycloak HTTP is already in use`,
    );
  });

  it('refuses a management port in use and names it', async () => {
    await expect(startKeycloak({ managementPort: port })).rejects.toThrow(
      `port ${port} for Keycloak management is already in use`,
    );
  });
});
