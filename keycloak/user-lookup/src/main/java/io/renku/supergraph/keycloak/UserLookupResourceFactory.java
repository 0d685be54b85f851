package io.renku.supergraph.keycloak;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.services.resource.RealmResourceProvider;
import org.keycloak.services.resource.RealmResourceProviderFactory;

/**
 * Registers {@link UserLookupResource} under every realm: its id is the path segment after
 * {@code /realms/<realm>/}. Keycloak finds this class through
 * {@code META-INF/services/org.keycloak.services.resource.RealmResourceProviderFactory}.
 */
public class UserLookupResourceFactory implements RealmResourceProviderFactory {

  /** {@code POST /realms/<realm>/renku-users/lookup}; the identity subgraph calls this path. */
  public static final String ID = "renku-users";

  @Override
  public String getId() {
    return ID;
  }

  @Override
  public RealmResourceProvider create(KeycloakSession session) {
    return new UserLookupResource(session);
  }

  @Override
  public void init(Config.Scope config) {
    // No settings: the bound on keys is part of the endpoint's contract.
  }

  @Override
  public void postInit(KeycloakSessionFactory factory) {}

  @Override
  public void close() {}
}
