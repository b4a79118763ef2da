package io.backbeatserverless.benchmarks;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.localstack.EmbeddedStack;
import io.backbeatserverless.localstack.LocalS3Services;
import io.backbeatserverless.core.metadata.ReplicaMarkers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * One large object through the whole embedded stack, as an operator would send it: a multipart upload to the
 * source bucket, the populator, Kafka, the replicator and the status processor, to the default site. Prints the
 * time to the replica and to verify finding it in place, whether the replica's bytes are identical (SHA-256 of both,
 * read in ranges), and the peak resident memory of every server and of the stack's JVM (where the functions run).
 */
@Command(name = "stack-large-object", mixinStandardHelpOptions = true,
        description = "A large object (default 5 GiB) replicated on the embedded stack; identity and servers' memory.")
final class StackLargeObjectRun implements Callable<Integer> {

    @Option(names = "--size-mib", defaultValue = "5120", description = "object size in MiB (default: ${DEFAULT-VALUE}, 5 GiB)")
    long sizeMib;
    @Option(names = "--part-mib", defaultValue = "64", description = "part size of the upload to the source, in MiB (default: ${DEFAULT-VALUE})")
    long partMib;
    @Option(names = "--server-heap", defaultValue = "1g", description = "-Xmx of each S3 server JVM (default: ${DEFAULT-VALUE})")
    String serverHeap;
    @Option(names = "--function-timeout-seconds", defaultValue = "0", description = "each invocation's time (Lambda's function timeout)"
            + " locally; a short one makes the copy resume across invocations (default: the configuration's, 900 s)")
    long functionTimeoutSeconds;
    @Option(names = "--functions-in-processes", description = "run each function in a JVM of its own (its heap then measured)")
    boolean functionsInProcesses;
    @Option(names = "--results", defaultValue = "-", description = "page the table is written to (docs/benchmarks.md); '-' for none (default: ${DEFAULT-VALUE})")
    String results;

    private static final String SITE = "aws-location";
    private static final long RANGE = 64L << 20;

    @Override
    public Integer call() throws Exception {
        long size = sizeMib << 20;
        BackbeatConfig config = EmbeddedStack.onFreePorts(BackbeatConfig.load(Path.of("localstack/backbeat.json")));
        if (functionTimeoutSeconds > 0) {
            var es = config.eventSource();
            config = config.withEventSource(new BackbeatConfig.EventSourceSettings(es.batchSize(), es.batchWindowMs(), functionTimeoutSeconds));
        }
        SiteConfig site = config.requireSite(SITE);
        EmbeddedStack.Options defaults = EmbeddedStack.Options.defaults();
        try (EmbeddedStack stack = EmbeddedStack.start(config, new EmbeddedStack.Options(defaults.localstackDir(), serverHeap, "512m", Set.of(), null)
                .withS3ObjectBytes(LocalS3Services.ObjectBytes.DISK).withFunctionsInProcesses(functionsInProcesses));
             S3Client source = AwsClients.s3(config.source().endpoint(), 8);
             S3Client destination = AwsClients.s3(site.endpoint(), 8)) {
            String bucket = "large-" + Long.toHexString(System.currentTimeMillis());
            source.createBucket(r -> r.bucket(bucket));
            source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
            source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                    .role("arn:aws:iam::root:role/large").rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                            .destination(d -> d.bucket("arn:aws:s3:::" + site.bucket()).storageClass(SITE))).build()));
            String key = "large/" + sizeMib + "-mib.bin";

            long start = System.nanoTime();
            String[] versionAndHash = upload(source, bucket, key, size);
            double uploadSeconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("uploaded %d MiB to the source in %.0f s (%.0f MB/s), version %s%n", sizeMib, uploadSeconds,
                    size / uploadSeconds / 1e6, versionAndHash[0]);

            long uploaded = System.nanoTime();
            // What the replicator says of its copy, invocation by invocation, and its heap, while it copies.
            List<String> copyLog = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicLong heapPeakKib = new java.util.concurrent.atomic.AtomicLong();
            if (functionsInProcesses) {
                stack.function("replicator-" + SITE).watch(line -> {
                    if (line.contains("stops for the invocation's deadline") || line.contains("resuming the copy")) {
                        copyLog.add(line.replaceFirst("^.*S3SiteReplicator - ", ""));
                    }
                });
            }
            // A small object of another key on the big one's partition, put right after it: it must not wait for the big copy.
            String smallKey = keyOnTheSamePartition(bucket, key, config.kafka().partitions());
            String smallVersion = source.putObject(r -> r.bucket(bucket).key(smallKey), RequestBody.fromString("small")).versionId();
            long smallPut = System.nanoTime();
            String smallReplicaKey = site.bucketMatch() ? smallKey : bucket + "/" + smallKey;
            java.util.concurrent.atomic.AtomicLong smallReplicatedNanos = new java.util.concurrent.atomic.AtomicLong(-1);
            var sampler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
            sampler.scheduleAtFixedRate(() -> {
                try {
                    if (smallReplicatedNanos.get() < 0 && head(destination, site.bucket(), smallReplicaKey)
                            .filter(h -> smallVersion.equals(h.metadata().get(ReplicaMarkers.SOURCE_VERSION))).isPresent()) {
                        smallReplicatedNanos.set(System.nanoTime() - smallPut);
                    }
                    if (functionsInProcesses) {
                        heapPeakKib.accumulateAndGet(heapUsedKib(stack.function("replicator-" + SITE).pid()), Math::max);
                    }
                } catch (RuntimeException e) {
                    // a sample missed (the function restarting): the next one counts
                }
            }, 0, 250, java.util.concurrent.TimeUnit.MILLISECONDS);
            // The default site keeps every source bucket under a prefix of its name (bucketMatch false).
            String replicaKey = site.bucketMatch() ? key : bucket + "/" + key;
            HeadObjectResponse replica = awaitReplica(destination, site.bucket(), replicaKey, versionAndHash[0], Duration.ofMinutes(60));
            double replicaSeconds = (System.nanoTime() - uploaded) / 1e9;
            sampler.shutdownNow();
            int uploadsLeft = destination.listMultipartUploads(r -> r.bucket(site.bucket()).prefix(site.bucketMatch() ? key : bucket + "/")).uploads().size();
            System.out.printf("replica written %.0f s after the upload completed (%.0f MB/s)%n", replicaSeconds, size / replicaSeconds / 1e6);
            VerifyRun verify = VerifySettle.settle(stack, bucket, List.of(SITE), Duration.ofMinutes(10));
            double verifiedSeconds = (System.nanoTime() - uploaded) / 1e9;
            String replicaHash = sha256OfRanges(destination, site.bucket(), replicaKey, replica.versionId(), size);
            boolean identical = replicaHash.equals(versionAndHash[1]) && replica.contentLength() == size;

            StringBuilder table = new StringBuilder();
            table.append(String.format("object: %d MiB, uploaded in %d MiB parts; replicated as %d MiB parts (PartPlan)%n%n", sizeMib, partMib,
                    io.backbeatserverless.core.transfer.PartPlan.of(size).partSize() >> 20));
            table.append("| step | seconds | MB/s |\n|---|---|---|\n");
            table.append(String.format("| upload to the source (multipart) | %.0f | %.0f |%n", uploadSeconds, size / uploadSeconds / 1e6));
            table.append(String.format("| upload completed → replica written | %.0f | %.0f |%n", replicaSeconds, size / replicaSeconds / 1e6));
            table.append(String.format("| upload completed → verify clean (COMPLETED, identical) | %.0f | |%n", verifiedSeconds));
            table.append(String.format("%nverify: %s; bytes (SHA-256 of the source as sent and of the replica as read back): %s%n%n",
                    verify.bySite(), identical ? "identical" : "DIFFERENT"));
            table.append(String.format("function timeout (each invocation's time): %d s; a small object of another key, put right after the"
                            + " big one on its partition, replicated %.1f s after its put (the big one: %.0f s); multipart uploads left at the site: %d%n",
                    config.eventSource().functionTimeoutSeconds(), smallReplicatedNanos.get() / 1e9, replicaSeconds, uploadsLeft));
            if (functionsInProcesses) {
                table.append(String.format("replicator (own JVM, -Xmx384m): peak heap used %d MiB (sampled every 250 ms)%n", heapPeakKib.get() >> 10));
                table.append(String.format("the copy, invocation by invocation (the replicator's log):%n%n"));
                copyLog.forEach(line -> table.append("    ").append(line).append(String.format("%n")));
            }
            table.append(String.format("%n"));
            table.append("| process | peak resident (VmHWM) | resident now |\n|---|---|---|\n");
            Map<String, Long> pids = new LinkedHashMap<>(stack.serverPids());
            pids.put("stack JVM (Kafka, populator, replicator, status; -Xmx2g)", ProcessHandle.current().pid());
            for (var entry : pids.entrySet()) {
                table.append(String.format("| %s | %s | %s |%n", entry.getKey(), procStatus(entry.getValue(), "VmHWM"), procStatus(entry.getValue(), "VmRSS")));
            }
            table.append(String.format("%nS3 servers: -Xmx%s, object bytes on disk (--s3-object-bytes DISK)%n", serverHeap));
            System.out.println();
            System.out.println(table);
            if (!"-".equals(results)) {
                String command = "tests/benchmarks/run stack-large-object --size-mib " + sizeMib
                        + (functionTimeoutSeconds > 0 ? " --function-timeout-seconds " + functionTimeoutSeconds : "")
                        + (functionsInProcesses ? " --functions-in-processes" : "");
                ResultsPage.write(Path.of(results), functionTimeoutSeconds > 0 ? "stack-large-object-resumed" : "stack-large-object", command,
                        table.toString());
            }
            return identical && verify.clean() && uploadsLeft == 0 && smallReplicatedNanos.get() >= 0 ? 0 : 1;
        }
    }

    /** Multipart upload of generated bytes; returns the version id and the SHA-256 of what was sent. */
    private String[] upload(S3Client source, String bucket, String key, long size) throws Exception {
        long partSize = partMib << 20;
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        String upload = source.createMultipartUpload(r -> r.bucket(bucket).key(key).contentType("application/octet-stream")).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        byte[] buffer = new byte[(int) partSize];
        try (InputStream data = new GeneratedInputStream(5, size)) {
            for (int n = 1; (long) (n - 1) * partSize < size; n++) {
                int length = (int) Math.min(partSize, size - (n - 1) * partSize);
                int read = data.readNBytes(buffer, 0, length);
                sha.update(buffer, 0, read);
                int number = n;
                String etag = source.uploadPart(r -> r.bucket(bucket).key(key).uploadId(upload).partNumber(number),
                        RequestBody.fromBytes(read == buffer.length ? buffer : java.util.Arrays.copyOf(buffer, read))).eTag();
                parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
            }
        }
        String version = source.completeMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(upload)
                .multipartUpload(m -> m.parts(parts))).versionId();
        return new String[] {version, HexFormat.of().formatHex(sha.digest())};
    }

    private static HeadObjectResponse awaitReplica(S3Client destination, String bucket, String key, String sourceVersion, Duration within)
            throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<HeadObjectResponse> head = head(destination, bucket, key);
            if (head.isPresent() && sourceVersion.equals(head.get().metadata().get(ReplicaMarkers.SOURCE_VERSION))) {
                return head.get();
            }
            Thread.sleep(1_000);
        }
        throw new IllegalStateException("no replica of " + key + " version " + sourceVersion + " within " + within);
    }

    private static Optional<HeadObjectResponse> head(S3Client s3, String bucket, String key) {
        try {
            return Optional.of(s3.headObject(r -> r.bucket(bucket).key(key)));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** SHA-256 of an object read in 64 MiB ranges, as the replicator and the AWS CLI read large objects. */
    private static String sha256OfRanges(S3Client s3, String bucket, String key, String versionId, long size) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[1 << 20];
        for (long offset = 0; offset < size; offset += RANGE) {
            String range = "bytes=" + offset + "-" + (Math.min(size, offset + RANGE) - 1);
            try (ResponseInputStream<GetObjectResponse> in = s3.getObject(r -> r.bucket(bucket).key(key).versionId(versionId).range(range))) {
                for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                    sha.update(buffer, 0, read);
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** A key whose entries go to the same partition of the replication topic as {@code key}'s (Kafka's default partitioner). */
    private static String keyOnTheSamePartition(String bucket, String key, int partitions) {
        int wanted = partitionOf(bucket, key, partitions);
        for (int n = 0; ; n++) {
            String candidate = "small-" + n;
            if (partitionOf(bucket, candidate, partitions) == wanted) {
                return candidate;
            }
        }
    }

    private static int partitionOf(String bucket, String key, int partitions) {
        byte[] messageKey = io.backbeatserverless.core.entry.MessageKeys.forObject(bucket, key).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(messageKey)) % partitions;
    }

    /** The heap in use of a JVM, from {@code jcmd <pid> GC.heap_info} ("used NNNK"); 0 if it cannot be read. */
    private static long heapUsedKib(long pid) {
        try {
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid),
                    "GC.heap_info").redirectErrorStream(true).start();
            String out = new String(jcmd.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            jcmd.waitFor();
            var m = java.util.regex.Pattern.compile("total \\d+K, used (\\d+)K").matcher(out);
            return m.find() ? Long.parseLong(m.group(1)) : 0;
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    private static String procStatus(long pid, String field) {
        try {
            return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                    .filter(l -> l.startsWith(field + ":")).findFirst()
                    .map(l -> (Long.parseLong(l.replaceAll("\\D", "")) >> 10) + " MiB").orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }
}
