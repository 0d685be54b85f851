package io.renku.supergraph.neo4j;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.SettingValueParsers;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

/**
 * Runs Neo4j Community embedded and serves Bolt on 127.0.0.1 until SIGTERM.
 *
 * <p>Usage: {@code java -jar neo4j-launcher.jar --data-dir DIR [--bolt-port PORT]}, or the
 * environment variables NEO4J_DATA_DIR and NEO4J_BOLT_PORT (default 7687). NEO4J_PAGECACHE sets
 * the page cache (default 256m). {@code --exit-with-parent} shuts Neo4j down when the process that
 * started it ends. Once Bolt answers, one line {@code neo4j ready bolt://...} goes to stdout;
 * callers wait for it.
 */
public final class Launcher {
  private static final String HOST = "127.0.0.1";
  private static final Duration START_TIMEOUT = Duration.ofMinutes(3);

  private Launcher() {}

  public static void main(String[] args) throws InterruptedException {
    Options options;
    try {
      options = Options.parse(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("neo4j-launcher: " + e.getMessage());
      System.err.println(
          "usage: java -jar neo4j-launcher.jar --data-dir DIR [--bolt-port PORT]"
              + " [--page-cache SIZE] [--exit-with-parent]");
      System.exit(2);
      return;
    }

    DatabaseManagementService service = build(options);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("neo4j stopping");
                  service.shutdown();
                  stopped.countDown();
                },
                "neo4j-launcher-shutdown"));

    GraphDatabaseService database = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
    if (!database.isAvailable(START_TIMEOUT.toMillis())) {
      System.err.println("neo4j-launcher: the default database did not become available in time");
      System.exit(1);
    }
    System.out.println("neo4j ready bolt://" + HOST + ":" + options.boltPort());
    System.out.flush();

    if (options.exitWithParent()) {
      // A test runner that dies without stopping us would otherwise leave the port and the
      // store lock taken; this shuts down cleanly through the hook above instead.
      ProcessHandle.current()
          .parent()
          .ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
    }

    // Neo4j's own threads keep the JVM alive too; waiting here makes the exit explicit.
    stopped.await(Long.MAX_VALUE, TimeUnit.DAYS);
  }

  private static DatabaseManagementService build(Options options) {
    return new DatabaseManagementServiceBuilder(options.dataDir())
        // Authentication is off because Bolt listens on the loopback interface only: every
        // client is a process on this machine (the subgraphs, the tests). Never widen the
        // listen address without turning authentication on.
        .setConfig(GraphDatabaseSettings.auth_enabled, false)
        .setConfig(BoltConnector.enabled, true)
        .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, options.boltPort()))
        .setConfig(BoltConnector.advertised_address, new SocketAddress(HOST, options.boltPort()))
        .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
        .setConfig(HttpConnector.enabled, false)
        .setConfig(HttpsConnector.enabled, false)
        // Usage reports would be sent to Neo4j's servers; nothing leaves this machine.
        .setConfig(GraphDatabaseSettings.udc_enabled, false)
        // Tests run several instances side by side: keep memory and disk small.
        .setConfig(GraphDatabaseSettings.pagecache_memory, options.pageCacheBytes())
        .setConfig(GraphDatabaseSettings.keep_logical_logs, "1 files")
        .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, 32L * 1024 * 1024)
        .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
        // Bolt's Netty event loops otherwise wait out a 5 s quiet period each on shutdown, which
        // made every stop take over 10 s; the databases are checkpointed before this point.
        .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
        .setConfig(
            GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(5))
        .build();
  }

  /** Settings from the command line, falling back to the environment. */
  record Options(Path dataDir, int boltPort, long pageCacheBytes, boolean exitWithParent) {
    static Options parse(String[] args, Map<String, String> env) {
      String dataDir = env.get("NEO4J_DATA_DIR");
      String boltPort =
          env.getOrDefault("NEO4J_BOLT_PORT", String.valueOf(BoltConnector.DEFAULT_PORT));
      String pageCache = env.getOrDefault("NEO4J_PAGECACHE", "256m");
      boolean exitWithParent = false;

      for (int i = 0; i < args.length; i++) {
        String name = args[i];
        if (name.equals("--exit-with-parent")) {
          exitWithParent = true;
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(name + " needs a value");
        }
        String value = args[++i];
        switch (name) {
          case "--data-dir" -> dataDir = value;
          case "--bolt-port" -> boltPort = value;
          case "--page-cache" -> pageCache = value;
          default -> throw new IllegalArgumentException("unknown option " + name);
        }
      }

      if (dataDir == null || dataDir.isBlank()) {
        throw new IllegalArgumentException("--data-dir (or NEO4J_DATA_DIR) is required");
      }
      return new Options(
          Path.of(dataDir).toAbsolutePath(),
          parsePort(boltPort),
          parseBytes(pageCache),
          exitWithParent);
    }

    private static int parsePort(String value) {
      try {
        int port = Integer.parseInt(value.trim());
        if (port > 0 && port < 65536) {
          return port;
        }
      } catch (NumberFormatException e) {
        // Reported below with the setting's name.
      }
      throw new IllegalArgumentException("bolt port must be 1-65535, got '" + value + "'");
    }

    private static long parseBytes(String value) {
      try {
        return SettingValueParsers.BYTES.parse(value.trim());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "page cache size is not a size like 256m: '" + value + "'");
      }
    }
  }
}
