package io.backbeatserverless.localstack;

import io.backbeatserverless.core.retry.RetryPolicy;

import java.time.Duration;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.Endpoint;
import io.backbeatserverless.populator.S3EventNotificationFeed;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import java.io.StringReader;

/**
 * S3 Event Notifications for the embedded source server: what AWS S3 does for a bucket whose
 * notification configuration sends {@code s3:ObjectCreated:*}, {@code s3:ObjectRemoved:DeleteMarkerCreated} and
 * {@code s3:ObjectTagging:*}
 * to an SQS queue, here for every bucket of the server (local-s3 has no notification support). A netty
 * handler in front of local-s3's router pairs each request with its response; a successful object PUT,
 * copy, CompleteMultipartUpload, a DELETE that created a delete marker, and each delete marker of a
 * multi-object delete become an event in S3's format (version 2.1, with a {@code sequencer} that grows
 * with every event). One sender thread delivers them in that order, ten messages per SendMessageBatch,
 * retrying until SQS takes them. Path-style requests only (what the stack's clients send).
 */
final class S3EventNotifier implements AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final SqsClient sqs;
    private final String queueUrl;
    private final S3Client self;
    private final BlockingQueue<Event> outbox = new LinkedBlockingQueue<>();
    private final AtomicLong sequencer = new AtomicLong();
    private final Thread sender;

    /** One notification to send; {@code size < 0} means unknown from the request (a copy or a completed upload). */
    private record Event(String name, String bucket, String key, String versionId, long size, String eTag, String sequencer,
                         Instant time) {
    }

    /** What the handler keeps of a request until its response is written. */
    private record Request(HttpMethod method, String bucket, String key, QueryStringDecoder query, boolean copy, long size) {
        boolean multiDelete() {
            return method.equals(HttpMethod.POST) && key.isEmpty() && query.parameters().containsKey("delete");
        }
    }

    S3EventNotifier(String queueUrl, String host, int port) {
        this.queueUrl = queueUrl;
        // The local SQS server and local-s3 do not check credentials; any static pair signs.
        Endpoint self = new Endpoint("http://" + host + ":" + port, "us-east-1", "local", "local");
        this.sqs = io.backbeatserverless.adapters.aws.SqsQueues.client(queueUrl, self);
        this.self = AwsClients.s3(self, 2);
        this.sender = Thread.ofPlatform().daemon().name("s3-event-sender").start(this::sendLoop);
    }

    /** A new handler for one connection (it keeps that connection's requests in order). */
    ChannelDuplexHandler newHandler() {
        return new Capture();
    }

    private final class Capture extends ChannelDuplexHandler {
        private final ArrayDeque<Request> pending = new ArrayDeque<>();
        private Request collecting;
        private StringBuilder body;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof HttpRequest request) {
                pending.add(parse(request));
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof HttpResponse response && response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
                Request request = pending.poll();
                if (request != null && response.status().codeClass() == HttpStatusClass.SUCCESS) {
                    if (request.multiDelete()) {
                        collecting = request;
                        body = new StringBuilder();
                    } else {
                        responded(request, response.headers());
                    }
                }
            }
            if (msg instanceof HttpContent content && collecting != null) {
                body.append(content.content().toString(StandardCharsets.UTF_8));
                if (msg instanceof LastHttpContent) {
                    multiDeleted(collecting.bucket(), body.toString());
                    collecting = null;
                    body = null;
                }
            }
            super.write(ctx, msg, promise);
        }
    }

    private static Request parse(HttpRequest request) {
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        String path = query.path().startsWith("/") ? query.path().substring(1) : query.path();
        int slash = path.indexOf('/');
        String bucket = QueryStringDecoder.decodeComponent(slash < 0 ? path : path.substring(0, slash));
        // The path is percent-encoded; '+' is a literal plus there.
        String key = slash < 0 ? "" : QueryStringDecoder.decodeComponent(path.substring(slash + 1).replace("+", "%2B"));
        HttpHeaders headers = request.headers();
        String length = headers.get("x-amz-decoded-content-length", headers.get("content-length"));
        return new Request(request.method(), bucket, key, query, headers.contains("x-amz-copy-source"),
                length == null ? -1 : Long.parseLong(length));
    }

    private void responded(Request request, HttpHeaders headers) {
        if (request.key().isEmpty() || request.bucket().isEmpty()) {
            return;
        }
        var params = request.query().parameters();
        String versionId = headers.get("x-amz-version-id");
        String eTag = unquote(headers.get("etag"));
        String name = null;
        long size = request.size();
        if (request.method().equals(HttpMethod.PUT) && params.keySet().stream().noneMatch(p -> List.of("uploadId", "partNumber",
                "tagging", "acl", "retention", "legal-hold").contains(p))) {
            name = request.copy() ? "ObjectCreated:Copy" : "ObjectCreated:Put";
            size = request.copy() ? -1 : size;
        } else if (request.method().equals(HttpMethod.POST) && params.containsKey("uploadId")) {
            name = "ObjectCreated:CompleteMultipartUpload";
            size = -1;
            eTag = null;
        } else if (params.containsKey("tagging") && (request.method().equals(HttpMethod.PUT) || request.method().equals(HttpMethod.DELETE))) {
            // A tag change is an event of its own (s3:ObjectTagging:Put / :Delete), of the version it names or the latest.
            name = request.method().equals(HttpMethod.PUT) ? "ObjectTagging:Put" : "ObjectTagging:Delete";
            versionId = params.containsKey("versionId") ? params.get("versionId").getFirst() : versionId;
            size = -1;
            eTag = null;
        } else if (request.method().equals(HttpMethod.DELETE) && !params.containsKey("versionId")
                && "true".equals(headers.get("x-amz-delete-marker"))) {
            name = "ObjectRemoved:DeleteMarkerCreated";
            size = 0;
        }
        if (name != null) {
            enqueue(name, request.bucket(), request.key(), versionId, size, eTag);
        }
    }

    /** A multi-object delete: each {@code <Deleted>} that created a delete marker is an event. */
    private void multiDeleted(String bucket, String responseXml) {
        try {
            var factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            NodeList deleted = factory.newDocumentBuilder().parse(new InputSource(new StringReader(responseXml)))
                    .getElementsByTagNameNS("*", "Deleted");
            for (int i = 0; i < deleted.getLength(); i++) {
                Element entry = (Element) deleted.item(i);
                String versionId = text(entry, "VersionId");
                // No version id asked (local-s3 answers an empty one): the delete made a marker.
                if ("true".equals(text(entry, "DeleteMarker")) && (versionId == null || versionId.isEmpty())) {
                    enqueue("ObjectRemoved:DeleteMarkerCreated", bucket, text(entry, "Key"), text(entry, "DeleteMarkerVersionId"), 0, null);
                }
            }
        } catch (Exception e) {
            System.out.println("S3 EVENTS: cannot read a multi-object delete response of bucket " + bucket + ": " + e);
        }
    }

    private static String text(Element parent, String name) {
        NodeList nodes = parent.getElementsByTagNameNS("*", name);
        return nodes.getLength() == 0 ? null : nodes.item(0).getTextContent();
    }

    private void enqueue(String name, String bucket, String key, String versionId, long size, String eTag) {
        outbox.add(new Event(name, bucket, key, versionId, size, eTag, String.format("%016X", sequencer.incrementAndGet()), Instant.now()));
    }

    private void sendLoop() {
        List<Event> batch = new ArrayList<>(10);
        while (!Thread.currentThread().isInterrupted()) {
            try {
                batch.add(outbox.take());
                outbox.drainTo(batch, 9);
                List<SendMessageBatchRequestEntry> entries = new ArrayList<>(batch.size());
                for (int i = 0; i < batch.size(); i++) {
                    entries.add(SendMessageBatchRequestEntry.builder().id(Integer.toString(i)).messageBody(json(complete(batch.get(i)))).build());
                }
                send(entries);
                batch.clear();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Sends until SQS took every message: an event is never dropped while the server runs. */
    private void send(List<SendMessageBatchRequestEntry> entries) throws InterruptedException {
        RetryPolicy.Backoff backoff = io.backbeatserverless.core.retry.RetryPolicy.forever(Duration.ofMillis(100), Duration.ofSeconds(5))
                .backoff(java.time.Clock.systemUTC());
        List<SendMessageBatchRequestEntry> left = entries;
        while (!left.isEmpty()) {
            List<SendMessageBatchRequestEntry> attempt = left;
            try {
                SendMessageBatchResponse response = sqs.sendMessageBatch(r -> r.queueUrl(queueUrl).entries(attempt));
                var failed = response.failed().stream().map(f -> f.id()).toList();
                left = left.stream().filter(e -> failed.contains(e.id())).toList();
                if (!left.isEmpty()) {
                    System.out.println("S3 EVENTS: " + left.size() + " not taken by SQS: " + response.failed().getFirst().message());
                }
            } catch (RuntimeException e) {
                System.out.println("S3 EVENTS: sending to " + queueUrl + " failed, retrying: " + e);
            }
            if (!left.isEmpty()) {
                Thread.sleep(backoff.next());
            }
        }
    }

    /** A copy or a completed upload: its size and ETag come from a HEAD of the new version. */
    private Event complete(Event event) {
        if (event.size() >= 0) {
            return event;
        }
        try {
            HeadObjectResponse head = self.headObject(r -> r.bucket(event.bucket()).key(event.key()).versionId(event.versionId()));
            return new Event(event.name(), event.bucket(), event.key(), event.versionId(), head.contentLength(), unquote(head.eTag()),
                    event.sequencer(), event.time());
        } catch (RuntimeException e) {
            System.out.println("S3 EVENTS: cannot read the size of " + event.bucket() + "/" + event.key() + ": " + e);
            return new Event(event.name(), event.bucket(), event.key(), event.versionId(), 0, event.eTag(), event.sequencer(), event.time());
        }
    }

    private static String json(Event event) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode records = root.putArray("Records");
        ObjectNode record = records.addObject();
        record.put("eventVersion", "2.1").put("eventSource", "aws:s3").put("awsRegion", "us-east-1")
                .put("eventTime", event.time().toString()).put("eventName", event.name());
        ObjectNode s3 = record.putObject("s3");
        s3.put("s3SchemaVersion", "1.0").put("configurationId", "backbeat-local");
        s3.putObject("bucket").put("name", event.bucket()).put("arn", "arn:aws:s3:::" + event.bucket());
        ObjectNode object = s3.putObject("object");
        // S3 form-encodes keys in events ("a b" -> "a+b").
        object.put("key", URLEncoder.encode(event.key(), StandardCharsets.UTF_8)).put("size", event.size());
        if (event.eTag() != null) {
            object.put("eTag", event.eTag());
        }
        object.put("versionId", event.versionId()).put("sequencer", event.sequencer());
        return root.toString();
    }

    private static String unquote(String eTag) {
        return eTag == null ? null : eTag.replace("\"", "");
    }

    @Override
    public void close() {
        sender.interrupt();
        sqs.close();
        self.close();
    }
}
