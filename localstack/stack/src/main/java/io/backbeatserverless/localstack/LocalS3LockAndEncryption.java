package io.backbeatserverless.localstack;

import com.robothy.netty.http.HttpRequest;
import com.robothy.netty.http.HttpRequestHandler;
import com.robothy.netty.http.HttpResponse;
import com.robothy.netty.router.Router;
import com.robothy.s3.core.service.ObjectService;
import com.robothy.s3.rest.utils.ResponseUtils;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * S3 Object Lock and server-side encryption as Amazon S3 documents them, which local-s3 2.4 has neither of: without
 * them a replicator that drops a version's retention or encryption passes every test (issue 30). Kept beside local-s3's
 * own metadata, per version, in memory like the rest of it.
 *
 * <p>Object Lock (S3 User Guide, "Locking objects with Object Lock" and "Managing Object Lock"; the PutObject and
 * PutObjectRetention API pages):
 * <ul>
 *   <li>a bucket has it when created with {@code x-amz-bucket-object-lock-enabled: true} or given an
 *       {@code ?object-lock} configuration; {@code GET ?object-lock} of another answers 404
 *       {@code ObjectLockConfigurationNotFoundError};</li>
 *   <li>a write (PutObject, CopyObject, CreateMultipartUpload) with {@code x-amz-object-lock-mode},
 *       {@code -retain-until-date} or {@code -legal-hold} to a bucket without it answers 400 {@code InvalidRequest}
 *       "Bucket is missing ObjectLockConfiguration"; a PutObject with them and neither {@code Content-MD5} nor an
 *       {@code x-amz-sdk-checksum-algorithm}/{@code x-amz-checksum-*} header answers 400 (S3: "The Content-MD5 or
 *       x-amz-sdk-checksum-algorithm header is required for any request to upload an object with a retention period
 *       configured using Amazon S3 Object Lock"); a mode without a date (or the reverse), or a date in the past, 400
 *       {@code InvalidArgument};</li>
 *   <li>HEAD and GET answer a version's mode, retain-until date and legal hold (the legal hold only once one was set);
 *       {@code ?retention} and {@code ?legal-hold} read and change them: COMPLIANCE is never shortened or lifted,
 *       GOVERNANCE only with {@code x-amz-bypass-governance-retention: true};</li>
 *   <li>a version under retention or a legal hold cannot be deleted by its id: 403 {@code AccessDenied}.</li>
 * </ul>
 *
 * <p>Encryption (S3 User Guide, "Protecting data with server-side encryption"; "Using server-side encryption with
 * customer-provided keys"): every object is encrypted, SSE-S3 ({@code AES256}) unless the write asks for
 * {@code aws:kms} (with its key id, echoed as sent: no KMS checks the id here) or SSE-C; HEAD, GET and the write's own
 * answer say which. An SSE-C version is read only with its key: without it 400 {@code InvalidRequest} (a HEAD's with no
 * body), with another key 403. Not emulated: SSE-KMS ETags (S3's are not the MD5 of the content; here they still are)
 * and SSE-C on multipart uploads.
 */
final class LocalS3LockAndEncryption extends InFrontOfLocalS3 {

    private static final Pattern UPLOAD_ID = Pattern.compile("<UploadId>([^<]+)</UploadId>");
    private static final Pattern MODE = Pattern.compile("<Mode>([^<]*)</Mode>");
    private static final Pattern UNTIL = Pattern.compile("<RetainUntilDate>([^<]*)</RetainUntilDate>");
    private static final Pattern STATUS = Pattern.compile("<Status>([^<]*)</Status>");
    private static final String SSE_C_ALGORITHM = "x-amz-server-side-encryption-customer-algorithm";
    private static final String SSE_C_KEY = "x-amz-server-side-encryption-customer-key";
    private static final String SSE_C_KEY_MD5 = "x-amz-server-side-encryption-customer-key-md5";

    /** What S3 keeps of a version besides its bytes and metadata: its lock and how it is encrypted. */
    private record Protection(String mode, Instant retainUntil, String legalHold, String encryption, String kmsKeyId, String customerKeyMd5) {
        static final Protection DEFAULT = new Protection(null, null, null, "AES256", null, null);

        boolean retained(Instant now) {
            return retainUntil != null && retainUntil.isAfter(now);
        }

        Protection withRetention(String newMode, Instant newUntil) {
            return new Protection(newMode, newUntil, legalHold, encryption, kmsKeyId, customerKeyMd5);
        }

        Protection withLegalHold(String status) {
            return new Protection(mode, retainUntil, status, encryption, kmsKeyId, customerKeyMd5);
        }
    }

    private final ObjectService objects;
    private final Clock clock;
    private final Set<String> lockedBuckets = ConcurrentHashMap.newKeySet();
    private final Map<String, Protection> versions = new ConcurrentHashMap<>();
    private final Map<String, Protection> uploads = new ConcurrentHashMap<>();

    LocalS3LockAndEncryption(Router delegate, ObjectService objects, Clock clock) {
        super(delegate);
        this.objects = objects;
        this.clock = clock;
    }

    @Override
    public HttpRequestHandler match(HttpRequest request) {
        // Matching also reads the bucket and key from the path into the request's parameters: always match first.
        HttpRequestHandler matched = delegate.match(request);
        Optional<String> bucket = request.parameter("bucket");
        if (bucket.isEmpty()) {
            return matched;
        }
        HttpMethod method = request.getMethod();
        if (request.parameter("key").isEmpty()) {
            if (has(request, "object-lock")) {
                return HttpMethod.GET.equals(method) ? this::getLockConfiguration
                        : HttpMethod.PUT.equals(method) ? this::putLockConfiguration : matched;
            }
            if (HttpMethod.PUT.equals(method) && !request.getUri().contains("?")
                    && "true".equalsIgnoreCase(request.header("x-amz-bucket-object-lock-enabled").orElse(""))) {
                return (req, resp) -> {
                    matched.handle(req, resp);
                    if (succeeded(resp)) {
                        lockedBuckets.add(bucket.get());
                    }
                };
            }
            return matched;
        }
        if (has(request, "retention") || has(request, "legal-hold")) {
            boolean retention = has(request, "retention");
            if (HttpMethod.GET.equals(method)) {
                return retention ? this::getRetention : this::getLegalHold;
            }
            if (HttpMethod.PUT.equals(method)) {
                return retention ? this::putRetention : this::putLegalHold;
            }
            return matched;
        }
        if (has(request, "tagging") || has(request, "acl") || has(request, "partNumber") && HttpMethod.PUT.equals(method)) {
            return matched;
        }
        if (HttpMethod.PUT.equals(method) || HttpMethod.POST.equals(method) && has(request, "uploads")) {
            return (req, resp) -> write(matched, req, resp);
        }
        if (HttpMethod.POST.equals(method) && has(request, "uploadId")) {
            return (req, resp) -> {
                matched.handle(req, resp);
                Protection protection = uploads.remove(req.parameter("uploadId").orElseThrow());
                if (succeeded(resp) && protection != null) {
                    versionOf(req, resp).ifPresent(v -> versions.put(id(req, v), protection));
                    answerProtection(resp, protection, false);
                }
            };
        }
        if ((HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method)) && !has(request, "uploadId")) {
            return (req, resp) -> read(matched, req, resp);
        }
        if (HttpMethod.DELETE.equals(method) && request.parameter("versionId").isPresent() && !has(request, "uploadId")) {
            return (req, resp) -> {
                Protection protection = versions.get(id(req, req.parameter("versionId").get()));
                if (protection != null && protects(protection, req)) {
                    error(resp, HttpResponseStatus.FORBIDDEN, "AccessDenied", "Access Denied because object protected by object lock.", req);
                    return;
                }
                matched.handle(req, resp);
            };
        }
        return matched;
    }

    private void write(HttpRequestHandler matched, HttpRequest req, HttpResponse resp) throws Exception {
        String mode = req.header("x-amz-object-lock-mode").orElse(null);
        String until = req.header("x-amz-object-lock-retain-until-date").orElse(null);
        String legalHold = req.header("x-amz-object-lock-legal-hold").orElse(null);
        boolean copy = req.header("x-amz-copy-source").isPresent();
        boolean putObject = HttpMethod.PUT.equals(req.getMethod()) && !copy;
        if (mode != null || until != null || legalHold != null) {
            if (!lockedBuckets.contains(req.parameter("bucket").get())) {
                error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidRequest", "Bucket is missing ObjectLockConfiguration", req);
                return;
            }
            if (putObject && req.header("content-md5").isEmpty() && req.header("x-amz-sdk-checksum-algorithm").isEmpty()
                    && req.getHeaders().keySet().stream().noneMatch(h -> h.toString().toLowerCase(Locale.ROOT).startsWith("x-amz-checksum-"))) {
                error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidRequest",
                        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters", req);
                return;
            }
            if ((mode == null) != (until == null)) {
                error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidArgument",
                        "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied", req);
                return;
            }
        }
        Instant retainUntil = null;
        if (until != null) {
            retainUntil = instant(until);
            if (retainUntil == null || !retainUntil.isAfter(clock.instant())) {
                error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidArgument", "The retain until date must be in the future!", req);
                return;
            }
            if (!"GOVERNANCE".equals(mode) && !"COMPLIANCE".equals(mode)) {
                error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidArgument", "Unknown wormMode directive.", req);
                return;
            }
        }
        String encryption = req.header("x-amz-server-side-encryption").orElse(null);
        String kmsKeyId = req.header("x-amz-server-side-encryption-aws-kms-key-id").orElse(null);
        String customerKeyMd5 = null;
        if (req.header(SSE_C_ALGORITHM).isPresent()) {
            customerKeyMd5 = customerKeyMd5(req, "");
            if (customerKeyMd5 == null || encryption != null) {
                error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidArgument",
                        "The calculated MD5 hash of the key did not match the hash that was provided.", req);
                return;
            }
            encryption = null;
        } else if (encryption == null) {
            encryption = "AES256"; // S3 encrypts every new object since 2023-01-05 (SSE-S3 unless asked otherwise)
        } else if (!Set.of("AES256", "aws:kms", "aws:kms:dsse").contains(encryption) || "AES256".equals(encryption) && kmsKeyId != null) {
            error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidArgument", "The encryption method specified is not supported", req);
            return;
        }
        if (copy && !copySourceReadable(req, resp)) {
            return;
        }
        Protection protection = new Protection(mode, retainUntil, legalHold, encryption, kmsKeyId, customerKeyMd5);
        matched.handle(req, resp);
        if (!succeeded(resp)) {
            return;
        }
        // Only what differs from S3's default is kept: a benchmark's hundred thousand plain objects cost no memory here.
        if (!protection.equals(Protection.DEFAULT)) {
            if (HttpMethod.POST.equals(req.getMethod())) {
                Matcher upload = UPLOAD_ID.matcher(resp.getBody().toString(StandardCharsets.UTF_8));
                if (upload.find()) {
                    uploads.put(upload.group(1), protection);
                }
            } else {
                versionOf(req, resp).ifPresent(v -> versions.put(id(req, v), protection));
            }
        }
        answerProtection(resp, protection, false);
    }

    /** A server-side copy of an SSE-C version needs its key, as {@code x-amz-copy-source-server-side-encryption-customer-*}. */
    private boolean copySourceReadable(HttpRequest req, HttpResponse resp) {
        String source = java.net.URLDecoder.decode(req.header("x-amz-copy-source").get(), StandardCharsets.UTF_8);
        source = source.startsWith("/") ? source.substring(1) : source;
        String versionId = null;
        int query = source.indexOf("?versionId=");
        if (query >= 0) {
            versionId = source.substring(query + "?versionId=".length());
            source = source.substring(0, query);
        }
        int slash = source.indexOf('/');
        if (slash < 0) {
            return true; // local-s3 answers the malformed source
        }
        String bucket = source.substring(0, slash);
        String key = source.substring(slash + 1);
        String version = versionId != null ? versionId : latest(bucket, key).orElse(null);
        Protection protection = version == null ? null : versions.get(bucket + "\u0000" + key + "\u0000" + version);
        if (protection == null || protection.customerKeyMd5() == null) {
            return true;
        }
        String given = customerKeyMd5(req, "x-amz-copy-source-");
        if (given == null) {
            error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidRequest", "The object was stored using a form of Server Side Encryption. "
                    + "The correct parameters must be provided to retrieve the object.", req);
            return false;
        }
        if (!given.equals(protection.customerKeyMd5())) {
            error(resp, HttpResponseStatus.FORBIDDEN, "AccessDenied", "Access Denied", req);
            return false;
        }
        return true;
    }

    private void read(HttpRequestHandler matched, HttpRequest req, HttpResponse resp) throws Exception {
        String version = req.parameter("versionId").or(() -> latest(req.parameter("bucket").get(), req.parameter("key").get())).orElse(null);
        Protection protection = version == null ? null : versions.get(id(req, version));
        boolean keyGiven = req.header(SSE_C_ALGORITHM).isPresent();
        if (protection != null && protection.customerKeyMd5() != null) {
            String given = keyGiven ? customerKeyMd5(req, "") : null;
            if (given == null) {
                error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidRequest", "The object was stored using a form of Server Side Encryption. "
                        + "The correct parameters must be provided to retrieve the object.", req);
                return;
            }
            if (!given.equals(protection.customerKeyMd5())) {
                error(resp, HttpResponseStatus.FORBIDDEN, "AccessDenied", "Access Denied", req);
                return;
            }
        } else if (keyGiven && version != null) {
            error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidRequest", "The encryption parameters are not applicable to this object.", req);
            return;
        }
        matched.handle(req, resp);
        if (succeeded(resp) || resp.getStatus() != null && resp.getStatus().code() == 206) {
            answerProtection(resp, protection == null ? Protection.DEFAULT : protection, true);
        }
    }

    /** The answer's headers for a version's protection: encryption always, the lock on reads (a write's answer has none). */
    private static void answerProtection(HttpResponse resp, Protection protection, boolean lock) {
        if (protection.customerKeyMd5() != null) {
            resp.putHeader(SSE_C_ALGORITHM, "AES256").putHeader(SSE_C_KEY_MD5, protection.customerKeyMd5());
        } else {
            resp.putHeader("x-amz-server-side-encryption", protection.encryption());
            if (protection.kmsKeyId() != null) {
                resp.putHeader("x-amz-server-side-encryption-aws-kms-key-id", protection.kmsKeyId());
            }
        }
        if (lock) {
            if (protection.mode() != null) {
                resp.putHeader("x-amz-object-lock-mode", protection.mode())
                        .putHeader("x-amz-object-lock-retain-until-date", protection.retainUntil().toString());
            }
            if (protection.legalHold() != null) {
                resp.putHeader("x-amz-object-lock-legal-hold", protection.legalHold());
            }
        }
    }

    private boolean protects(Protection protection, HttpRequest req) {
        if ("ON".equals(protection.legalHold())) {
            return true;
        }
        if (!protection.retained(clock.instant())) {
            return false;
        }
        return "COMPLIANCE".equals(protection.mode()) || !bypassesGovernance(req);
    }

    private static boolean bypassesGovernance(HttpRequest req) {
        return "true".equalsIgnoreCase(req.header("x-amz-bypass-governance-retention").orElse(""));
    }

    private void getLockConfiguration(HttpRequest req, HttpResponse resp) {
        if (!lockedBuckets.contains(req.parameter("bucket").get())) {
            error(resp, HttpResponseStatus.NOT_FOUND, "ObjectLockConfigurationNotFoundError",
                    "Object Lock configuration does not exist for this bucket", req);
            return;
        }
        xml(resp, "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>");
    }

    private void putLockConfiguration(HttpRequest req, HttpResponse resp) {
        String body = req.getBody().toString(StandardCharsets.UTF_8);
        if (!body.contains("<ObjectLockEnabled>Enabled</ObjectLockEnabled>")) {
            error(resp, HttpResponseStatus.BAD_REQUEST, "MalformedXML", "The XML you provided was not well-formed", req);
            return;
        }
        lockedBuckets.add(req.parameter("bucket").get());
        ResponseUtils.addCommonHeaders(resp);
        resp.status(HttpResponseStatus.OK);
    }

    private void getRetention(HttpRequest req, HttpResponse resp) {
        getLock(req, resp, p -> p.mode() == null ? null
                : "<Retention><Mode>" + p.mode() + "</Mode><RetainUntilDate>" + p.retainUntil() + "</RetainUntilDate></Retention>");
    }

    private void getLegalHold(HttpRequest req, HttpResponse resp) {
        getLock(req, resp, p -> p.legalHold() == null ? null : "<LegalHold><Status>" + p.legalHold() + "</Status></LegalHold>");
    }

    /** A version's retention or legal hold as {@code answer} writes it; 404 NoSuchObjectLockConfiguration when it has none. */
    private void getLock(HttpRequest req, HttpResponse resp, java.util.function.Function<Protection, String> answer) {
        Optional<String> version = existingVersion(req, resp);
        if (version.isEmpty()) {
            return;
        }
        String body = answer.apply(versions.getOrDefault(id(req, version.get()), Protection.DEFAULT));
        if (body == null) {
            error(resp, HttpResponseStatus.NOT_FOUND, "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration", req);
            return;
        }
        xml(resp, body);
    }

    private void putRetention(HttpRequest req, HttpResponse resp) {
        if (!lockedBuckets.contains(req.parameter("bucket").get())) {
            error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidRequest", "Bucket is missing Object Lock Configuration", req);
            return;
        }
        Optional<String> version = existingVersion(req, resp);
        if (version.isEmpty()) {
            return;
        }
        String body = req.getBody().toString(StandardCharsets.UTF_8);
        Matcher mode = MODE.matcher(body);
        Matcher until = UNTIL.matcher(body);
        String newMode = mode.find() ? mode.group(1) : null;
        Instant newUntil = until.find() ? instant(until.group(1)) : null;
        if ((newMode == null) != (newUntil == null) || newMode != null && !Set.of("GOVERNANCE", "COMPLIANCE").contains(newMode)) {
            error(resp, HttpResponseStatus.BAD_REQUEST, "MalformedXML", "The XML you provided was not well-formed", req);
            return;
        }
        if (newUntil != null && !newUntil.isAfter(clock.instant())) {
            error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidArgument", "The retain until date must be in the future!", req);
            return;
        }
        String id = id(req, version.get());
        Protection current = versions.getOrDefault(id, Protection.DEFAULT);
        if (current.retained(clock.instant())) {
            boolean shortens = newUntil == null || newUntil.isBefore(current.retainUntil());
            boolean compliance = "COMPLIANCE".equals(current.mode());
            if (compliance && (shortens || !"COMPLIANCE".equals(newMode)) || !compliance && shortens && !bypassesGovernance(req)) {
                error(resp, HttpResponseStatus.FORBIDDEN, "AccessDenied", "Access Denied because object protected by object lock.", req);
                return;
            }
        }
        versions.put(id, current.withRetention(newMode, newUntil));
        ResponseUtils.addCommonHeaders(resp);
        resp.status(HttpResponseStatus.OK);
    }

    private void putLegalHold(HttpRequest req, HttpResponse resp) {
        if (!lockedBuckets.contains(req.parameter("bucket").get())) {
            error(resp, HttpResponseStatus.BAD_REQUEST, "InvalidRequest", "Bucket is missing Object Lock Configuration", req);
            return;
        }
        Optional<String> version = existingVersion(req, resp);
        if (version.isEmpty()) {
            return;
        }
        Matcher status = STATUS.matcher(req.getBody().toString(StandardCharsets.UTF_8));
        if (!status.find() || !Set.of("ON", "OFF").contains(status.group(1))) {
            error(resp, HttpResponseStatus.BAD_REQUEST, "MalformedXML", "The XML you provided was not well-formed", req);
            return;
        }
        versions.merge(id(req, version.get()), Protection.DEFAULT.withLegalHold(status.group(1)), (old, added) -> old.withLegalHold(added.legalHold()));
        ResponseUtils.addCommonHeaders(resp);
        resp.status(HttpResponseStatus.OK);
    }

    /** The version asked for (or the latest), answering 404 when the key or the version does not exist. */
    private Optional<String> existingVersion(HttpRequest req, HttpResponse resp) {
        String bucket = req.parameter("bucket").get();
        String key = req.parameter("key").get();
        var object = objects.localS3Metadata().getBucketMetadata(bucket).flatMap(b -> b.getObjectMetadata(key));
        if (object.isEmpty() || object.get().getVersionedObjectMap().isEmpty()) {
            error(resp, HttpResponseStatus.NOT_FOUND, "NoSuchKey", "The specified key does not exist.", req);
            return Optional.empty();
        }
        Optional<String> version = req.parameter("versionId");
        if (version.isPresent() && object.get().getVersionedObjectMetadata(version.get()).isEmpty()) {
            error(resp, HttpResponseStatus.NOT_FOUND, "NoSuchVersion", "The specified version does not exist.", req);
            return Optional.empty();
        }
        return version.or(() -> Optional.of(object.get().getLatestVersion()));
    }

    private Optional<String> latest(String bucket, String key) {
        return objects.localS3Metadata().getBucketMetadata(bucket).flatMap(b -> b.getObjectMetadata(key))
                .filter(o -> !o.getVersionedObjectMap().isEmpty()).map(o -> o.getLatestVersion());
    }

    /** The version a write made: its answer's {@code x-amz-version-id}, else the key's latest. */
    private Optional<String> versionOf(HttpRequest req, HttpResponse resp) {
        return resp.getHeaders().entrySet().stream().filter(h -> h.getKey().equalsIgnoreCase("x-amz-version-id")).map(Map.Entry::getValue)
                .findFirst().or(() -> latest(req.parameter("bucket").get(), req.parameter("key").get()));
    }

    /** The MD5 of the customer key given, when the key's own MD5 header matches it; null when absent or not matching. */
    private static String customerKeyMd5(HttpRequest req, String prefix) {
        String key = req.header(prefix + SSE_C_KEY).orElse(null);
        String md5 = req.header(prefix + SSE_C_KEY_MD5).orElse(null);
        if (key == null || md5 == null) {
            return null;
        }
        try {
            String actual = Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(Base64.getDecoder().decode(key)));
            return actual.equals(md5) ? actual : null;
        } catch (IllegalArgumentException | java.security.NoSuchAlgorithmException e) {
            return null;
        }
    }

    private static Instant instant(String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            try {
                return java.time.OffsetDateTime.parse(value).toInstant();
            } catch (DateTimeParseException again) {
                return null;
            }
        }
    }

    private static boolean has(HttpRequest request, String parameter) {
        return request.parameter(parameter).isPresent();
    }

    private static boolean succeeded(HttpResponse resp) {
        return resp.getStatus() == null || resp.getStatus().code() == 200;
    }

    private static String id(HttpRequest req, String version) {
        return req.parameter("bucket").get() + "\u0000" + req.parameter("key").get() + "\u0000" + version;
    }

    private static void xml(HttpResponse resp, String body) {
        ResponseUtils.addCommonHeaders(resp);
        resp.status(HttpResponseStatus.OK).putHeader("content-type", "application/xml")
                .write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + body);
    }

    /** S3's error answer; a HEAD's has no body. */
    private static void error(HttpResponse resp, HttpResponseStatus status, String code, String message, HttpRequest req) {
        ResponseUtils.addCommonHeaders(resp);
        resp.status(status);
        if (!HttpMethod.HEAD.equals(req.getMethod())) {
            resp.putHeader("content-type", "application/xml").write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code
                    + "</Code><Message>" + message + "</Message></Error>");
        }
    }
}
