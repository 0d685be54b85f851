package io.renku.supergraph.keycloak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The body of a lookup, {@code {"ids": [...], "usernames": [...]}}: either list may be left out.
 * Parsed by hand so that every mistake gets a message naming it, and only after the caller is
 * authorized (a JAX-RS entity would be read before the resource method runs).
 */
record LookupKeys(List<String> ids, List<String> usernames) {

  /** The most ids and usernames together that one lookup may ask for. */
  static final int MAX_KEYS = 500;

  private static final ObjectMapper JSON = new ObjectMapper();

  static LookupKeys parse(byte[] body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw badRequest("the body is not JSON");
    }
    if (root == null || !root.isObject()) {
      throw badRequest("the body must be an object with `ids` and `usernames`");
    }
    for (var names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!name.equals("ids") && !name.equals("usernames")) {
        throw badRequest("unknown field `" + name + "`: give `ids` and `usernames`");
      }
    }

    LookupKeys keys = new LookupKeys(strings(root, "ids"), strings(root, "usernames"));
    if (keys.ids.size() + keys.usernames.size() > MAX_KEYS) {
      throw badRequest("at most " + MAX_KEYS + " ids and usernames together per lookup");
    }
    return keys;
  }

  private static List<String> strings(JsonNode root, String field) {
    JsonNode list = root.get(field);
    List<String> values = new ArrayList<>();
    if (list == null || list.isNull()) return values;
    if (!list.isArray()) throw badRequest("`" + field + "` must be a list of strings");
    // Checked before reading on: a huge list is refused without being copied.
    if (list.size() > MAX_KEYS) {
      throw badRequest("at most " + MAX_KEYS + " ids and usernames together per lookup");
    }
    for (JsonNode value : list) {
      if (!value.isTextual()) throw badRequest("`" + field + "` must be a list of strings");
      values.add(value.textValue());
    }
    return values;
  }

  static BadRequestException badRequest(String description) {
    return new BadRequestException(
        Response.status(Response.Status.BAD_REQUEST)
            .type(MediaType.APPLICATION_JSON_TYPE)
            .entity(Map.of("error", "invalid_request", "error_description", description))
            .build());
  }
}
