package io.renku.supergraph.keycloak;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.ForbiddenException;
import jakarta.ws.rs.NotAuthorizedException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.InputStream;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserProvider;
import org.keycloak.models.utils.ModelToRepresentation;
import org.keycloak.representations.idm.UserRepresentation;
import org.keycloak.services.managers.AppAuthManager;
import org.keycloak.services.managers.AuthenticationManager.AuthResult;
import org.keycloak.services.resource.RealmResourceProvider;
import org.keycloak.services.resources.admin.AdminAuth;
import org.keycloak.services.resources.admin.fgap.AdminPermissions;
import org.keycloak.services.resources.admin.fgap.UserPermissionEvaluator;

/**
 * Looks many users of a realm up in one call, by id and by username. Keycloak's admin REST API
 * answers one user per request, so a page of n distinct users cost n requests.
 *
 * <p>Authorization is the admin API's own: a valid bearer token of this realm whose holder may
 * query users (realm-management {@code query-users} or {@code view-users}, or fine-grained admin
 * permissions); only users the holder may view are answered. Users are answered in the brief
 * representation that {@code GET /admin/realms/<realm>/users?briefRepresentation=true} gives.
 */
public class UserLookupResource implements RealmResourceProvider {

  private final KeycloakSession session;

  UserLookupResource(KeycloakSession session) {
    this.session = session;
  }

  @Override
  public Object getResource() {
    return this;
  }

  @Override
  public void close() {}

  /**
   * {@code {"ids": [...], "usernames": [...]}}, at most {@link LookupKeys#MAX_KEYS} together.
   * Answers the users found, each once, in no particular order; keys that match no user (or one
   * the caller may not view) are simply absent. Usernames match case-insensitively, as Keycloak
   * stores them in lower case.
   *
   * <p>The body is taken as a stream, which JAX-RS hands over unread, and read only after the
   * caller is authorized: an entity such as {@code byte[]} would be read in full before this
   * method runs, so a client without a token could hold a worker thread by sending its body
   * slowly, or have up to Quarkus' 10 MB body limit buffered before it is refused.
   */
  @POST
  @Path("lookup")
  @Consumes(MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  public Collection<UserRepresentation> lookup(InputStream body) {
    RealmModel realm = session.getContext().getRealm();
    UserPermissionEvaluator permissions = userPermissions(realm);
    LookupKeys keys = LookupKeys.read(body, declaredLength());

    UserProvider users = session.users();
    Map<String, UserRepresentation> found = new LinkedHashMap<>();
    for (String id : keys.ids()) {
      add(found, permissions, users.getUserById(realm, id));
    }
    for (String username : keys.usernames()) {
      add(found, permissions, users.getUserByUsername(realm, username));
    }
    return found.values();
  }

  /** The request's Content-Length, or -1 without one (a chunked body). */
  private long declaredLength() {
    String header =
        session.getContext().getHttpRequest().getHttpHeaders().getHeaderString("Content-Length");
    try {
      return header == null ? -1 : Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static void add(
      Map<String, UserRepresentation> found, UserPermissionEvaluator permissions, UserModel user) {
    if (user == null || found.containsKey(user.getId()) || !permissions.canView(user)) return;
    found.put(user.getId(), ModelToRepresentation.toBriefRepresentation(user));
  }

  /**
   * 401 without a valid access token of this realm, 403 when its holder may not query users:
   * the checks the admin API makes before {@code GET users}.
   */
  private UserPermissionEvaluator userPermissions(RealmModel realm) {
    AuthResult auth = new AppAuthManager.BearerTokenAuthenticator(session).authenticate();
    if (auth == null) throw new NotAuthorizedException("Bearer");

    AdminAuth admin = new AdminAuth(realm, auth.token(), auth.user(), auth.client());
    UserPermissionEvaluator permissions = AdminPermissions.evaluator(session, realm, admin).users();
    if (!permissions.canQuery()) throw new ForbiddenException("the token may not query users");
    return permissions;
  }
}
