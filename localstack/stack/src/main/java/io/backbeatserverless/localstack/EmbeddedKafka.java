package io.backbeatserverless.localstack;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

/**
 * A real Apache Kafka broker, single node in KRaft mode (broker and controller in one process),
 * running in this JVM and listening on 127.0.0.1 only. Its log directory is formatted anew at each
 * start and deleted at close, so every local run starts from empty topics. {@link #restart()} stops the broker and
 * starts it again on the same log directory and ports, as a broker restart in a cluster does.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private KafkaRaftServer server;
    private final KafkaConfig config;
    private final Path logDir;
    private final String bootstrapServers;

    private EmbeddedKafka(KafkaRaftServer server, KafkaConfig config, Path logDir, String bootstrapServers) {
        this.server = server;
        this.config = config;
        this.logDir = logDir;
        this.bootstrapServers = bootstrapServers;
    }

    public static EmbeddedKafka start(String host, int port) throws Exception {
        int controllerPort = freePort();
        Path logDir = Files.createTempDirectory("backbeat-kafka-");
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@" + host + ":" + controllerPort);
        p.put("listeners", "PLAINTEXT://" + host + ":" + port + ",CONTROLLER://" + host + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + host + ":" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");
        KafkaConfig config = new KafkaConfig(p);

        new Formatter()
                .setClusterId(Uuid.randomUuid().toString())
                .setNodeId(1)
                .setDirectories(List.of(logDir.toString()))
                .setMetadataLogDirectory(logDir.toString())
                .setControllerListenerName("CONTROLLER")
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
                .run();

        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        return new EmbeddedKafka(server, config, logDir, host + ":" + port);
    }

    /**
     * Stops the broker (a clean shutdown, as a rolling restart does) and starts it again on the same log directory:
     * topics, committed offsets and every record written before stay. Clients see their connections drop and
     * reconnect; the call returns once the broker is started again.
     */
    public synchronized void restart() {
        server.shutdown();
        server.awaitShutdown();
        server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /**
     * Creates the topics that do not exist yet (replication factor 1: one broker) and waits until every
     * partition has a leader: a producer that writes to a partition still electing one gets errors.
     */
    public void createTopics(Map<String, Integer> partitionsByTopic) throws InterruptedException, ExecutionException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            for (Map.Entry<String, Integer> topic : partitionsByTopic.entrySet()) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic.getKey(), topic.getValue(), (short) 1))).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            long deadline = System.currentTimeMillis() + 30_000;
            while (true) {
                boolean led;
                try {
                    led = admin.describeTopics(partitionsByTopic.keySet()).allTopicNames().get().values().stream()
                            .allMatch(d -> d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
                } catch (ExecutionException notYetKnown) {
                    led = false;
                }
                if (led) {
                    return;
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("topics " + partitionsByTopic.keySet() + " have no leader after 30 s");
                }
                Thread.sleep(50);
            }
        }
    }

    @Override
    public synchronized void close() {
        server.shutdown();
        server.awaitShutdown();
        try (Stream<Path> files = Files.walk(logDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
