package io.backbeatserverless.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ListMessageMoveTasksResultEntry;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The S3-events feed's queue and its dead-letter queue, for an operator: how many messages wait in each, and a redrive of
 * the dead letters back onto the feed's queue (SQS's own message move task: SQS Developer Guide,
 * sqs-configure-dead-letter-queue-redrive; the caller needs sqs:StartMessageMoveTask, ReceiveMessage, DeleteMessage and
 * GetQueueAttributes on the dead-letter queue, SendMessage on the feed's queue). A message lands there after the queue's
 * maxReceiveCount receives the populator could not use (not an S3 event, or its bucket's rules unusable for that long);
 * once the cause is fixed, the redrive makes the populator read it again. The dead-letter queue is the one the queue's
 * RedrivePolicy names, so nothing here needs configuring beyond the feed's queue.
 */
public final class SourceEventsRedrive {

    private static final Logger LOG = LoggerFactory.getLogger(SourceEventsRedrive.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SqsClient sqs;
    private final String queueUrl;

    public SourceEventsRedrive(SqsClient sqs, String queueUrl) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
    }

    private record Queues(String queueArn, String deadLettersArn, String deadLettersUrl) {
    }

    /** {@code {"Queue","Messages","MessagesInFlight","DeadLetterQueue","DeadLetters","Redrives":[{"Status","Moved","ToMove","Started","Failure"}]}}. */
    public Map<String, Object> status() {
        Queues queues = queues();
        Map<String, String> queue = attributes(queueUrl);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("Queue", queues.queueArn());
        answer.put("Messages", Long.parseLong(queue.getOrDefault("ApproximateNumberOfMessages", "0")));
        answer.put("MessagesInFlight", Long.parseLong(queue.getOrDefault("ApproximateNumberOfMessagesNotVisible", "0")));
        answer.put("DeadLetterQueue", queues.deadLettersArn());
        answer.put("DeadLetters", Long.parseLong(attributes(queues.deadLettersUrl()).getOrDefault("ApproximateNumberOfMessages", "0")));
        List<Map<String, Object>> redrives = new ArrayList<>();
        for (ListMessageMoveTasksResultEntry task : sqs.listMessageMoveTasks(r -> r.sourceArn(queues.deadLettersArn()).maxResults(10)).results()) {
            Map<String, Object> redrive = new LinkedHashMap<>();
            redrive.put("Status", task.status());
            redrive.put("Moved", task.approximateNumberOfMessagesMoved());
            redrive.put("ToMove", task.approximateNumberOfMessagesToMove());
            redrive.put("Started", task.startedTimestamp());
            if (task.failureReason() != null) {
                redrive.put("Failure", task.failureReason());
            }
            redrives.add(redrive);
        }
        answer.put("Redrives", redrives);
        return answer;
    }

    /** Starts moving every dead letter back onto the feed's queue: {@code {"TaskHandle","DeadLetters"}} (SQS runs one at a time). */
    public Map<String, Object> redrive() {
        Queues queues = queues();
        long deadLetters = Long.parseLong(attributes(queues.deadLettersUrl()).getOrDefault("ApproximateNumberOfMessages", "0"));
        String handle = sqs.startMessageMoveTask(r -> r.sourceArn(queues.deadLettersArn()).destinationArn(queues.queueArn())).taskHandle();
        LOG.info("redrive of {} (about {} messages) onto {} started: {}", queues.deadLettersArn(), deadLetters, queues.queueArn(), handle);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("TaskHandle", handle);
        answer.put("DeadLetters", deadLetters);
        return answer;
    }

    private Queues queues() {
        Map<String, String> queue = attributes(queueUrl, QueueAttributeName.QUEUE_ARN, QueueAttributeName.REDRIVE_POLICY);
        String policy = queue.get("RedrivePolicy");
        if (policy == null) {
            throw OpsException.notFound("the S3-events queue " + queueUrl + " has no dead-letter queue (no RedrivePolicy)");
        }
        String deadLettersArn;
        try {
            JsonNode parsed = JSON.readTree(policy);
            deadLettersArn = parsed.path("deadLetterTargetArn").asText(null);
        } catch (IOException e) {
            throw new IllegalStateException("the queue's RedrivePolicy is not JSON: " + policy, e);
        }
        if (deadLettersArn == null) {
            throw new IllegalStateException("the queue's RedrivePolicy names no deadLetterTargetArn: " + policy);
        }
        // arn:aws:sqs:<region>:<account>:<name>
        String[] arn = deadLettersArn.split(":", 6);
        String url = sqs.getQueueUrl(r -> r.queueName(arn[5]).queueOwnerAWSAccountId(arn[4])).queueUrl();
        return new Queues(queue.get("QueueArn"), deadLettersArn, url);
    }

    private Map<String, String> attributes(String url, QueueAttributeName... names) {
        QueueAttributeName[] asked = names.length == 0
                ? new QueueAttributeName[]{QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE}
                : names;
        return sqs.getQueueAttributes(r -> r.queueUrl(url).attributeNames(asked)).attributesAsStrings();
    }
}
