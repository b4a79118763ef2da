package io.backbeatserverless.ops;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.events.CloudFormationCustomResourceEvent;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.kafka.KafkaClientSecurity;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.lambda.powertools.cloudformation.AbstractCustomResourceHandler;
import software.amazon.lambda.powertools.cloudformation.Response;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The project's topics on an MSK Serverless cluster, as a CloudFormation custom resource (Powertools' CloudFormation
 * module answers CloudFormation). MSK's topic APIs, and so {@code AWS::MSK::Topic}, exist only for provisioned clusters
 * ("These APIs are not available for MSK Serverless clusters", MSK Developer Guide, topic operations); on Serverless a
 * topic is created with Kafka's admin client, from inside the cluster's VPC, authenticated with the function's role
 * (IAM, {@code kafka-cluster:CreateTopic}). The replication factor is left to the cluster (Serverless keeps three).
 *
 * <p>Properties: {@code BootstrapServers}, {@code IamAuth} ({@code "true"}), {@code Topics}: {@code [{"Name", "Partitions"}]}
 * (CloudFormation passes numbers as strings), and {@code TimeoutSeconds}, how long the cluster may take to answer (60). Create and Update create the missing topics and raise a topic's partitions
 * to the number asked (Kafka cannot lower them: a smaller number is reported and left); Delete keeps the topics, whose
 * entries are the replication backlog (the cluster goes with the stack anyway).
 */
public final class KafkaTopicsResource extends AbstractCustomResourceHandler {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaTopicsResource.class);

    public KafkaTopicsResource() {
        super();
    }

    /** @param http the client that sends the answer to CloudFormation's pre-signed URL (a test's own) */
    public KafkaTopicsResource(SdkHttpClient http) {
        super(http);
    }

    /** A topic and its partitions. */
    public record TopicSpec(String name, int partitions) {
    }

    @Override
    protected Response create(CloudFormationCustomResourceEvent event, Context context) {
        return ensure(event, physicalId(event));
    }

    @Override
    protected Response update(CloudFormationCustomResourceEvent event, Context context) {
        return ensure(event, event.getPhysicalResourceId());
    }

    @Override
    protected Response delete(CloudFormationCustomResourceEvent event, Context context) {
        LOG.info("topics {} kept: they hold the replication backlog", topics(event.getResourceProperties()));
        return Response.success(event.getPhysicalResourceId());
    }

    private Response ensure(CloudFormationCustomResourceEvent event, String physicalId) {
        Map<String, Object> properties = event.getResourceProperties();
        try {
            String bootstrap = String.valueOf(properties.get("BootstrapServers"));
            boolean iam = Boolean.parseBoolean(String.valueOf(properties.getOrDefault("IamAuth", "true")));
            java.time.Duration timeout = java.time.Duration.ofSeconds(Long.parseLong(String.valueOf(properties.getOrDefault("TimeoutSeconds", "60"))));
            List<String> done = ensure(new BackbeatConfig.KafkaSettings(bootstrap, null, null, 0, iam), topics(properties), timeout);
            LOG.info("topics: {}", done);
            return Response.builder().status(Response.Status.SUCCESS).physicalResourceId(physicalId)
                    .value(Map.of("Topics", String.join(", ", done))).build();
        } catch (RuntimeException e) {
            LOG.error("topics could not be created", e);
            return Response.builder().status(Response.Status.FAILED).physicalResourceId(physicalId)
                    .reason("topics " + properties.get("Topics") + " on " + properties.get("BootstrapServers") + ": " + e.getMessage()).build();
        }
    }

    /**
     * Creates the missing topics and raises partitions; what was done, a line a topic.
     *
     * @throws IllegalStateException naming the topic and Kafka's error when the cluster refuses
     */
    public static List<String> ensure(BackbeatConfig.KafkaSettings kafka, List<TopicSpec> wanted, java.time.Duration timeout) {
        Map<String, Object> settings = new java.util.HashMap<>(KafkaClientSecurity.properties(kafka));
        int millis = (int) timeout.toMillis();
        settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(15_000, millis));
        settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis);
        List<String> done = new ArrayList<>();
        try (Admin admin = Admin.create(settings)) {
            Set<String> existing = admin.listTopics().names().get(millis, TimeUnit.MILLISECONDS);
            for (TopicSpec topic : wanted) {
                if (!existing.contains(topic.name())) {
                    admin.createTopics(List.of(new NewTopic(topic.name(), Optional.of(topic.partitions()), Optional.empty())))
                            .all().get(millis, TimeUnit.MILLISECONDS);
                    done.add(topic.name() + ": created with " + topic.partitions() + " partitions");
                    continue;
                }
                TopicDescription description = admin.describeTopics(List.of(topic.name())).allTopicNames().get(millis, TimeUnit.MILLISECONDS)
                        .get(topic.name());
                int current = description.partitions().size();
                if (current < topic.partitions()) {
                    admin.createPartitions(Map.of(topic.name(), NewPartitions.increaseTo(topic.partitions()))).all().get(millis, TimeUnit.MILLISECONDS);
                    done.add(topic.name() + ": partitions raised from " + current + " to " + topic.partitions());
                } else if (current > topic.partitions()) {
                    done.add(topic.name() + ": keeps its " + current + " partitions (Kafka cannot lower them to " + topic.partitions() + ")");
                } else {
                    done.add(topic.name() + ": exists with " + current + " partitions");
                }
            }
            return done;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().toString(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the cluster did not answer within " + timeout.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static List<TopicSpec> topics(Map<String, Object> properties) {
        List<TopicSpec> topics = new ArrayList<>();
        if (properties != null && properties.get("Topics") instanceof List<?> list) {
            for (Object element : list) {
                Map<?, ?> topic = (Map<?, ?>) element;
                topics.add(new TopicSpec(String.valueOf(topic.get("Name")), Integer.parseInt(String.valueOf(topic.get("Partitions")))));
            }
        }
        if (topics.isEmpty()) {
            throw new IllegalArgumentException("the resource names no Topics");
        }
        return topics;
    }

    private static String physicalId(CloudFormationCustomResourceEvent event) {
        Map<String, Object> properties = new LinkedHashMap<>(event.getResourceProperties());
        return "kafka-topics:" + properties.getOrDefault("ClusterArn", event.getLogicalResourceId());
    }
}
