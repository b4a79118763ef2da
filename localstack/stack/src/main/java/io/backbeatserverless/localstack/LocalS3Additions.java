package io.backbeatserverless.localstack;

import com.robothy.netty.http.HttpRequest;
import com.robothy.netty.http.HttpRequestHandler;
import com.robothy.netty.http.HttpResponse;
import com.robothy.netty.router.Router;
import com.robothy.s3.core.model.answers.GetObjectAns;
import com.robothy.s3.core.model.answers.UploadPartAns;
import com.robothy.s3.core.model.request.GetObjectOptions;
import com.robothy.s3.core.model.request.Range;
import com.robothy.s3.core.model.request.UploadPartOptions;
import com.robothy.s3.core.service.ObjectService;
import com.robothy.s3.rest.assertions.RequestAssertions;
import com.robothy.s3.rest.utils.RequestUtils;
import com.robothy.s3.rest.utils.ResponseUtils;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * What local-s3 2.4 lacks of S3's behaviour that replication relies on, added in front of its router so that the
 * replicator is tested against the same contract as on S3.
 *
 * <p>A HEAD or GET of a key whose latest version is a delete marker answers 404 with {@code x-amz-delete-marker: true}
 * and the marker's {@code x-amz-version-id}, as S3 does (local-s3 answers a bare 404): that header is how a replicator
 * that trusts it ({@code sites[].deleteMarkerHeader}) tells "a marker is on top" from "no such key" without listing.
 *
 * <p>Server-side copies ({@code CopyObject}, {@code UploadPartCopy}):
 * <ul>
 *   <li>{@code UploadPartCopy} (a part upload with {@code x-amz-copy-source}, optionally
 *       {@code x-amz-copy-source-range}): local-s3 would store the empty request body as the part;</li>
 *   <li>on both, the source conditions {@code x-amz-copy-source-if-match} / {@code -if-none-match} (412
 *       PreconditionFailed, as S3 answers), which local-s3 ignores;</li>
 *   <li>on {@code CopyObject}, the tags: S3 copies the source version's (directive {@code COPY}, the default) or sets
 *       {@code x-amz-tagging} ({@code REPLACE}); local-s3 ignores both, and its copies carry no tags.</li>
 * </ul>
 * Everything else goes to local-s3's own handlers.
 */
final class LocalS3Additions extends InFrontOfLocalS3 {

    private static final String COPY_SOURCE = "x-amz-copy-source";

    private final ObjectService objects;

    LocalS3Additions(Router delegate, ObjectService objects) {
        super(delegate);
        this.objects = objects;
    }

    @Override
    public HttpRequestHandler match(HttpRequest request) {
        // Matching also reads the bucket and key from the path into the request's parameters: always match first.
        HttpRequestHandler matched = delegate.match(request);
        if ((HttpMethod.HEAD.equals(request.getMethod()) || HttpMethod.GET.equals(request.getMethod()))
                && request.parameter("versionId").isEmpty() && request.parameter("bucket").isPresent() && request.parameter("key").isPresent()) {
            return (req, resp) -> {
                try {
                    matched.handle(req, resp);
                } catch (com.robothy.s3.core.exception.ObjectNotExistException notFound) {
                    if (!answeredAsDeleted(req, resp)) {
                        throw notFound;
                    }
                }
            };
        }
        if (HttpMethod.PUT.equals(request.getMethod()) && request.parameter("uploadId").isEmpty()
                && (request.header("If-None-Match").isPresent() || request.header("If-Match").isPresent())) {
            // Conditional writes: checked and written under the key's lock, so two of them are decided one after the other as
            // S3 decides them, and a delete marker (below) is made before the check or after the write, never in between.
            // A plain PUT of the key is not held by it (a large one would hold the lock for its whole upload).
            HttpRequestHandler write = request.header(COPY_SOURCE).isPresent() ? copyObjectWithTags(matched) : matched;
            return (req, resp) -> {
                synchronized (lockOf(req)) {
                    if (writeConditionsHold(req, resp)) {
                        write.handle(req, resp);
                    }
                }
            };
        }
        if (HttpMethod.DELETE.equals(request.getMethod()) && request.parameter("versionId").isEmpty()
                && request.parameter("uploadId").isEmpty() && request.parameter("key").isPresent()) {
            // A DELETE that makes a delete marker, under the key's lock: S3 answers a conditional write that a conflicting
            // write overlaps with 409 ConditionalRequestConflict rather than let it land between the check and the write.
            return (req, resp) -> {
                synchronized (lockOf(req)) {
                    matched.handle(req, resp);
                }
            };
        }
        if (!HttpMethod.PUT.equals(request.getMethod()) || request.header(COPY_SOURCE).isEmpty()) {
            return matched;
        }
        if (request.parameter("uploadId").isPresent() && request.parameter("partNumber").isPresent()) {
            return this::uploadPartCopy;
        }
        return copyObjectWithTags(matched);
    }

    /** CopyObject with S3's source conditions and tags (see the class's comment). */
    private HttpRequestHandler copyObjectWithTags(HttpRequestHandler copyObject) {
        return (req, resp) -> {
            Source source = Source.of(req);
            if (!preconditionsHold(req, source, resp)) {
                return;
            }
            copyObject.handle(req, resp);
            if (resp.getStatus() == null || resp.getStatus().code() == 200) {
                // S3's default directive is COPY: the copy carries the source version's tags.
                String[][] tags = "REPLACE".equalsIgnoreCase(req.header("x-amz-tagging-directive").orElse("COPY"))
                        ? RequestUtils.extractTagging(req).orElse(new String[0][])
                        : objects.getObjectTagging(source.bucket(), source.key(), source.versionId()).getTagging();
                if (tags != null && tags.length > 0) {
                    objects.putObjectTagging(RequestAssertions.assertBucketNameProvided(req), RequestAssertions.assertObjectKeyProvided(req),
                            resp.getHeaders().get("x-amz-version-id"), tags);
                }
            }
        };
    }

    private final Object[] keyLocks = java.util.stream.IntStream.range(0, 256).mapToObj(i -> new Object()).toArray();

    private Object lockOf(HttpRequest request) {
        String bucketAndKey = request.parameter("bucket").orElse("") + "/" + request.parameter("key").orElse("");
        return keyLocks[Math.floorMod(bucketAndKey.hashCode(), keyLocks.length)];
    }

    /**
     * S3's conditional writes on PutObject and CopyObject (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html):
     * {@code If-None-Match: *} writes only when the key has no current object (a delete marker on top counts as none),
     * {@code If-Match} only when the current object's ETag is the one given; else 412 PreconditionFailed and nothing is
     * written (404 NoSuchKey for an If-Match on a key with no current object). local-s3 ignores both.
     */
    private boolean writeConditionsHold(HttpRequest request, HttpResponse response) {
        String bucket = RequestAssertions.assertBucketNameProvided(request);
        String key = RequestAssertions.assertObjectKeyProvided(request);
        String current = currentETag(bucket, key);
        var ifNoneMatch = request.header("If-None-Match");
        var ifMatch = request.header("If-Match").map(LocalS3Additions::unquote);
        if (ifMatch.isPresent() && current == null) {
            ResponseUtils.addCommonHeaders(response);
            response.status(HttpResponseStatus.NOT_FOUND).putHeader("content-type", "application/xml")
                    .write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist."
                            + "</Message></Error>");
            return false;
        }
        boolean holds = (ifNoneMatch.isEmpty() || current == null) && ifMatch.map(e -> e.equals(current)).orElse(true);
        if (!holds) {
            ResponseUtils.addCommonHeaders(response);
            response.status(HttpResponseStatus.PRECONDITION_FAILED).putHeader("content-type", "application/xml")
                    .write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PreconditionFailed</Code><Message>At least one of the"
                            + " pre-conditions you specified did not hold</Message><Condition>" + (ifNoneMatch.isPresent() ? "If-None-Match" : "If-Match")
                            + "</Condition></Error>");
        }
        return holds;
    }

    private String currentETag(String bucket, String key) {
        try {
            return unquote(objects.headObject(bucket, key, GetObjectOptions.builder().build()).getEtag());
        } catch (RuntimeException noCurrentObject) {
            return null;
        }
    }

    /**
     * S3's 404 for a key under a delete marker, which says so with the marker's version id (a GET's with S3's
     * {@code NoSuchKey} body, a HEAD's without a body). False, and nothing written, when no marker is on top.
     */
    private boolean answeredAsDeleted(HttpRequest request, HttpResponse response) {
        String bucket = request.parameter("bucket").orElseThrow();
        String key = request.parameter("key").orElseThrow();
        var deleted = objects.localS3Metadata().getBucketMetadata(bucket).flatMap(b -> b.getObjectMetadata(key))
                .filter(o -> !o.getVersionedObjectMap().isEmpty() && o.getLatest().isDeleted());
        if (deleted.isEmpty()) {
            return false;
        }
        ResponseUtils.addCommonHeaders(response);
        response.status(HttpResponseStatus.NOT_FOUND).putHeader("x-amz-delete-marker", "true")
                .putHeader("x-amz-version-id", deleted.get().getLatestVersion());
        if (HttpMethod.GET.equals(request.getMethod())) {
            response.putHeader("content-type", "application/xml").write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey"
                    + "</Code><Message>The specified key does not exist.</Message></Error>");
        }
        return true;
    }

    private void uploadPartCopy(HttpRequest request, HttpResponse response) throws Exception {
        String bucket = RequestAssertions.assertBucketNameProvided(request);
        String key = RequestAssertions.assertObjectKeyProvided(request);
        int partNumber = RequestAssertions.assertPartNumberIsValid(request);
        String uploadId = RequestAssertions.assertUploadIdIsProvided(request);
        Source source = Source.of(request);
        if (!preconditionsHold(request, source, response)) {
            return;
        }
        GetObjectOptions.GetObjectOptionsBuilder options = GetObjectOptions.builder().versionId(source.versionId());
        request.header("x-amz-copy-source-range").ifPresent(range -> options.range(Range.parse(range)));
        GetObjectAns read = objects.getObject(source.bucket(), source.key(), options.build());
        long length = read.getContentRange() == null ? read.getSize() : rangeLength(read.getContentRange());
        UploadPartAns part;
        try (InputStream data = read.getContent()) {
            part = objects.uploadPart(bucket, key, uploadId, partNumber, UploadPartOptions.builder().contentLength(length).data(data).build());
        }
        ResponseUtils.addCommonHeaders(response);
        response.status(HttpResponseStatus.OK).putHeader("content-type", "application/xml")
                .write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><CopyPartResult><ETag>&quot;" + part.getEtag()
                        + "&quot;</ETag><LastModified>" + Instant.now() + "</LastModified></CopyPartResult>");
    }

    /** S3's answer when a source condition fails: 412 with its error body, and nothing copied. */
    private boolean preconditionsHold(HttpRequest request, Source source, HttpResponse response) {
        var ifMatch = request.header("x-amz-copy-source-if-match").map(LocalS3Additions::unquote);
        var ifNoneMatch = request.header("x-amz-copy-source-if-none-match").map(LocalS3Additions::unquote);
        if (ifMatch.isEmpty() && ifNoneMatch.isEmpty()) {
            return true;
        }
        String eTag = unquote(objects.headObject(source.bucket(), source.key(), GetObjectOptions.builder().versionId(source.versionId()).build())
                .getEtag());
        if (ifMatch.map(eTag::equals).orElse(true) && ifNoneMatch.map(e -> !e.equals(eTag)).orElse(true)) {
            return true;
        }
        ResponseUtils.addCommonHeaders(response);
        response.status(HttpResponseStatus.PRECONDITION_FAILED).putHeader("content-type", "application/xml")
                .write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PreconditionFailed</Code><Message>At least one of the"
                        + " pre-conditions you specified did not hold</Message><Condition>x-amz-copy-source-If-Match</Condition></Error>");
        return false;
    }

    private static long rangeLength(String contentRange) {
        // "bytes <first>-<last>/<size>"
        String span = contentRange.substring(contentRange.indexOf(' ') + 1, contentRange.indexOf('/'));
        int dash = span.indexOf('-');
        return Long.parseLong(span.substring(dash + 1)) - Long.parseLong(span.substring(0, dash)) + 1;
    }

    private static String unquote(String eTag) {
        return eTag.length() >= 2 && eTag.startsWith("\"") && eTag.endsWith("\"") ? eTag.substring(1, eTag.length() - 1) : eTag;
    }

    /** {@code x-amz-copy-source}: {@code [/]bucket/key[?versionId=id]}, URL-encoded. */
    private record Source(String bucket, String key, String versionId) {
        static Source of(HttpRequest request) {
            String raw = request.header(COPY_SOURCE).orElseThrow();
            String versionId = null;
            int query = raw.indexOf('?');
            if (query >= 0) {
                String q = raw.substring(query + 1);
                raw = raw.substring(0, query);
                for (String p : q.split("&")) {
                    if (p.startsWith("versionId=")) {
                        versionId = URLDecoder.decode(p.substring("versionId=".length()), StandardCharsets.UTF_8);
                    }
                }
            }
            String path = URLDecoder.decode(raw.startsWith("/") ? raw.substring(1) : raw, StandardCharsets.UTF_8);
            int slash = path.indexOf('/');
            if (slash <= 0) {
                throw new IllegalArgumentException("Invalid copy source: " + raw);
            }
            return new Source(path.substring(0, slash), path.substring(slash + 1), versionId);
        }
    }
}
