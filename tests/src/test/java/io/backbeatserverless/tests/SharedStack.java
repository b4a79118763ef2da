package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.localstack.EmbeddedStack;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Starts the embedded stack once for the whole test run and stops it when the run ends. It runs the
 * real {@code localstack/backbeat.json} moved to free ports, plus sites the scenarios need, all on the
 * destination S3 server of {@code aws-location}:
 * <ul>
 *   <li>{@code second-location}: bucket {@code second-bucket}, {@code bucketMatch: true} (one-to-many);</li>
 *   <li>{@code flaky-location}: bucket {@code flaky-bucket}, reached through a {@link FaultInjectingProxy};</li>
 *   <li>{@code gone-location}: bucket {@code gone-bucket}, which a test deletes (permanent failures);</li>
 *   <li>{@code retry-location}, {@code pause-location}, {@code console-location}: the operations scenarios' own sites.</li>
 * </ul>
 * The listing feed reads {@value #LISTING_PAGE} versions a page. Tests isolate themselves by source bucket names.
 */
public final class SharedStack implements BeforeAllCallback {

    public static final String AWS_LOCATION = "aws-location";
    public static final String SECOND_LOCATION = "second-location";
    public static final String FLAKY_LOCATION = "flaky-location";
    public static final String GONE_LOCATION = "gone-location";
    public static final String RETRY_LOCATION = "retry-location";
    public static final String PAUSE_LOCATION = "pause-location";
    public static final String CONSOLE_LOCATION = "console-location";
    /** A site behind a proxy a test takes down and brings back (issue 31's automatic retries). */
    public static final String OUTAGE_LOCATION = "outage-location";
    /** A site its replicator sends at most {@link #CAPPED_BYTES_PER_SECOND} (issue 31's bandwidth limit). */
    public static final String CAPPED_LOCATION = "capped-location";
    static final long CAPPED_BYTES_PER_SECOND = 1L << 20;
    /** The ops side's clock: tests move it to make scheduled resumes due. */
    static final OffsetClock CLOCK = new OffsetClock();
    static final int LISTING_PAGE = 100;

    private static volatile EmbeddedStack stack;
    private static volatile FaultInjectingProxy proxy;
    private static volatile FaultInjectingProxy outage;
    private static volatile StackClients clients;

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(SharedStack.class.getName(), key -> startStack(), Running.class);
    }

    public static EmbeddedStack stack() {
        if (stack == null) {
            throw new IllegalStateException("annotate the test class with @ExtendWith(SharedStack.class)");
        }
        return stack;
    }

    static FaultInjectingProxy proxy() {
        return proxy;
    }

    static FaultInjectingProxy outage() {
        return outage;
    }

    /** The clients every scenario shares, made once the stack is up and closed with it. */
    static synchronized StackClients clients() {
        if (clients == null) {
            clients = new StackClients();
        }
        return clients;
    }

    /** Ports are picked free, then bound: another process may take one in between, so a failed start is tried again on new ports. */
    private static Running startStack() {
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                return startStackOnce();
            } catch (IllegalStateException e) {
                last = e;
                System.err.println("embedded stack start " + attempt + " failed, trying other ports: " + e.getMessage());
            }
        }
        throw last;
    }

    private static Running startStackOnce() {
        try {
            Path configFile = Path.of("../localstack/backbeat.json");
            if (!Files.exists(configFile)) {
                configFile = Path.of("localstack/backbeat.json");
            }
            BackbeatConfig config = EmbeddedStack.onFreePorts(BackbeatConfig.load(configFile));
            // The listing feed 100 versions a page: backfills cross many pages, as a big bucket's do.
            BackbeatConfig.FeedSettings feed = config.source().feed();
            config = config.withSource(config.source().withFeed(new BackbeatConfig.FeedSettings(feed.type(), feed.intervalMs(), feed.url(),
                    feed.logName(), feed.raftSession(), LISTING_PAGE)));
            // Verify as fast as these local servers go (its default rate leaves room for live replication).
            BackbeatConfig.OpsSettings ops = config.ops();
            // Any bucket whose source has an inventory report is checked by its reports (VerifyByInventoryTest writes some).
            config = config.withOps(new BackbeatConfig.OpsSettings(ops.port(), ops.credentials(), ops.failedEntryRetentionHours(),
                    ops.eventSourceMappings(), 5_000, 500).withVerifyInventory(new BackbeatConfig.InventorySettings("backbeat", 1,
                    "s3://inventory-reports/inventories", Map.of(AWS_LOCATION, "s3://inventory-reports/inventories"))));
            SiteConfig main = config.requireSite(AWS_LOCATION);
            proxy = new FaultInjectingProxy(main.endpoint().port(), 0.04, 0.04, 0.04);
            outage = new FaultInjectingProxy(main.endpoint().port(), 0, 0, 0);
            config = config.withAddedSites(List.of(
                    new SiteConfig(SECOND_LOCATION, SiteConfig.TYPE_AWS_S3, main.endpoint(), "second-bucket", true),
                    new SiteConfig(FLAKY_LOCATION, SiteConfig.TYPE_AWS_S3, main.endpoint().withPort(proxy.port()), "flaky-bucket", false),
                    new SiteConfig(GONE_LOCATION, SiteConfig.TYPE_AWS_S3, main.endpoint(), "gone-bucket", false),
                    new SiteConfig(RETRY_LOCATION, SiteConfig.TYPE_AWS_S3, main.endpoint(), "retry-bucket", false),
                    new SiteConfig(PAUSE_LOCATION, SiteConfig.TYPE_AWS_S3, main.endpoint(), "pause-bucket", false),
                    new SiteConfig(CONSOLE_LOCATION, SiteConfig.TYPE_AWS_S3, main.endpoint(), "console-bucket", false),
                    // Issue 31: a site that goes down for a while, its transient failures retried on a short schedule.
                    new SiteConfig(OUTAGE_LOCATION, SiteConfig.TYPE_AWS_S3, main.endpoint().withPort(outage.port()), "outage-bucket", false,
                            null, false, null, null, null, List.of(2L, 3L, 5L)),
                    new SiteConfig(CAPPED_LOCATION, SiteConfig.TYPE_AWS_S3, main.endpoint(), "capped-bucket", false)
                            .withMaxBytesPerSecond(CAPPED_BYTES_PER_SECOND)));
            EmbeddedStack.Options defaults = EmbeddedStack.Options.defaults();
            stack = EmbeddedStack.start(config, new EmbeddedStack.Options(defaults.localstackDir(), "1g", "512m",
                    Set.of(FLAKY_LOCATION, OUTAGE_LOCATION), CLOCK));
            return new Running(stack, proxy);
        } catch (Exception e) {
            for (FaultInjectingProxy started : new FaultInjectingProxy[] {proxy, outage}) {
                if (started != null) {
                    try {
                        started.close();
                    } catch (java.io.IOException ignored) {
                        // closing a failed start's proxy
                    }
                }
            }
            throw new IllegalStateException("cannot start the embedded stack: " + e.getMessage(), e);
        }
    }

    private record Running(EmbeddedStack stack, FaultInjectingProxy proxy)
            implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() throws Exception {
            if (clients != null) {
                clients.close();
            }
            stack.close();
            proxy.close();
            outage.close();
        }
    }
}
