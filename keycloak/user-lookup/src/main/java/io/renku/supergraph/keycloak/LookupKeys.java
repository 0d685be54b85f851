package io.renku.supergraph.keycloak;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The body of a lookup, {@code {"ids": [...], "usernames": [...]}}: either list may be left out.
 * Read and parsed by hand, only after the caller is authorized (the resource takes the body as
 * an unread stream), so that every mistake gets a message naming it.
 */
record LookupKeys(List<String> ids, List<String> usernames) {

  /** The most ids and usernames together that one lookup may ask for. */
  static final int MAX_KEYS = 500;

  /**
   * The longest body read, in bytes: 500 keys of Keycloak's longest username (255 characters),
   * every character written as a six-character JSON escape, stay below it.
   */
  static final int MAX_BODY_BYTES = 1 << 20;

  /** Content after the object (a second object, stray text) is refused, not ignored. */
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  /**
   * Reads at most {@link #MAX_BODY_BYTES} of the body; {@code declaredLength} is its
   * Content-Length (-1 for none), so that a body declared too long is refused before any of it
   * is read.
   */
  static LookupKeys read(InputStream body, long declaredLength) {
    if (declaredLength > MAX_BODY_BYTES) throw tooLarge();
    byte[] bytes;
    try {
      bytes = body.readNBytes(MAX_BODY_BYTES + 1);
    } catch (IOException e) {
      // The client went away or broke off its body: a client's fault, answered (if anyone is
      // still listening) without the stack trace Keycloak logs for a server error.
      throw badRequest("the body could not be read");
    }
    if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
    return parse(bytes);
  }

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

  private static WebApplicationException tooLarge() {
    return new WebApplicationException(
        Response.status(Response.Status.REQUEST_ENTITY_TOO_LARGE)
            .type(MediaType.APPLICATION_JSON_TYPE)
            .entity(
                Map.of(
                    "error",
                    "invalid_request",
                    "error_description",
                    "the body is longer than " + MAX_BODY_BYTES + " bytes"))
            .build());
  }

  static BadRequestException badRequest(String description) {
    return new BadRequestException(
        Response.status(Response.Status.BAD_REQUEST)
            .type(MediaType.APPLICATION_JSON_TYPE)
            .entity(Map.of("error", "invalid_request", "error_description", description))
            .build());
  }
}
