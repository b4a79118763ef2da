package io.backbeatserverless.ops;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The topics' partitions, leaders, replicas and in-sync replicas, for the deep healthcheck. */
public final class KafkaHealth implements AutoCloseable {

    private final Admin admin;

    public KafkaHealth(io.backbeatserverless.adapters.config.BackbeatConfig.KafkaSettings kafka) {
        Map<String, Object> p = new java.util.HashMap<>(io.backbeatserverless.adapters.kafka.KafkaClientSecurity.properties(kafka));
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 8000);
        this.admin = Admin.create(p);
    }

    /** Backbeat's shape: {@code {"<topic>":{"name","partitions":[{"id","leader","replicas","isrs"}]}}}. */
    public Map<String, Object> describe(Collection<String> topics) throws Exception {
        Map<String, TopicDescription> descriptions = admin.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS);
        Map<String, Object> result = new LinkedHashMap<>();
        for (String topic : topics) {
            TopicDescription d = descriptions.get(topic);
            List<Map<String, Object>> partitions = new ArrayList<>();
            for (TopicPartitionInfo p : d.partitions()) {
                Map<String, Object> partition = new LinkedHashMap<>();
                partition.put("id", p.partition());
                partition.put("leader", p.leader() == null ? -1 : p.leader().id());
                partition.put("replicas", p.replicas().stream().map(Node::id).toList());
                partition.put("isrs", p.isr().stream().map(Node::id).toList());
                partitions.add(partition);
            }
            result.put(topic, Map.of("name", topic, "partitions", partitions));
        }
        return result;
    }

    @Override
    public void close() {
        admin.close();
    }
}
