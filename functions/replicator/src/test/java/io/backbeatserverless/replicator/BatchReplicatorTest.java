package io.backbeatserverless.replicator;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.adapters.kafka.KafkaEventRecords;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The batch logic on the recorded MSK event of {@code events/}, read with Lambda's own serializer. */
class BatchReplicatorTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T08:00:00Z"), ZoneOffset.UTC);

    private final MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final List<ReplicationEntry> replicated = new ArrayList<>();

    @Test
    void replicatesTheRecordedBatchAndPublishesTheOutcomeForItsSite() throws Exception {
        KafkaEvent event = recordedEvent();
        BatchReplicator replicator = replicator("aws-location", ReplicationOutcome.completed(1, 12));

        BatchReplicator.BatchResult result = new ReplicatorHandler(replicator).handleRequest(event, null);

        assertThat(result).isEqualTo(new BatchReplicator.BatchResult(1, 0, 0, 0, 0));
        assertThat(replicated).singleElement().satisfies(e -> {
            assertThat(e.bucket()).isEqualTo("srcbucket");
            assertThat(e.objectKey()).isEqualTo("obj1");
            assertThat(e.versionId()).isEqualTo("98204407893972999999RG001  0");
        });
        assertThat(producer.history()).singleElement().satisfies(record -> {
            assertThat(record.topic()).isEqualTo("backbeat-replication-status");
            assertThat(record.key()).isEqualTo("srcbucket%2Fobj1");
            StatusEntry status = EntryCodec.decodeStatusEntry(record.value());
            assertThat(status.site()).isEqualTo("aws-location");
            assertThat(status.status()).isEqualTo(ReplicationStatus.COMPLETED);
            assertThat(status.bytes()).isEqualTo(12);
            assertThat(status.timestamp()).isEqualTo("2026-11-25T08:00:00Z");
            assertThat(status.metadata().replicationInfo().orElseThrow().status()).isEqualTo(ReplicationStatus.COMPLETED);
        });
    }

    @Test
    void skipsVersionsForOtherSitesAndMalformedRecordsWithoutBlockingTheRest() throws Exception {
        KafkaEvent event = recordedEvent();
        var records = new ArrayList<>(event.getRecords().get("backbeat-replication-0"));
        var good = records.getFirst();
        records.addFirst(KafkaEvent.KafkaEventRecord.builder().withTopic(good.getTopic()).withPartition(0).withOffset(14)
                .withKey(good.getKey()).withValue(Base64.getEncoder().encodeToString("{not json".getBytes(StandardCharsets.UTF_8)))
                .build());
        event.setRecords(Map.of("backbeat-replication-0", records));

        BatchReplicator.BatchResult failedSite = replicator("aws-location", ReplicationOutcome.failed("NoSuchBucket (HTTP 404): gone", 1))
                .replicate(event);
        assertThat(failedSite).isEqualTo(new BatchReplicator.BatchResult(0, 1, 0, 0, 1));
        assertThat(producer.history()).hasSize(2);
        assertThat(EntryCodec.decodeStatusTopicRecord(producer.history().get(0).value())).as("the malformed record, passed on")
                .isInstanceOfSatisfying(io.backbeatserverless.core.entry.MalformedRecord.class, m -> {
                    assertThat(m.site()).isEqualTo("aws-location");
                    assertThat(m.position()).isEqualTo("backbeat-replication-0@14");
                    assertThat(m.reason()).contains("not JSON");
                    assertThat(m.raw()).isEqualTo("{not json");
                });
        assertThat(EntryCodec.decodeStatusEntry(producer.history().get(1).value()))
                .satisfies(s -> {
                    assertThat(s.status()).isEqualTo(ReplicationStatus.FAILED);
                    assertThat(s.reason()).isEqualTo("NoSuchBucket (HTTP 404): gone");
                });

        BatchReplicator.BatchResult otherSite = replicator("other-site", ReplicationOutcome.completed(1, 12)).replicate(event);
        assertThat(otherSite).isEqualTo(new BatchReplicator.BatchResult(0, 0, 0, 1, 1));
    }

    @Test
    void appliesTheVersionsOfOneObjectInOrderAndDifferentObjectsInParallel() throws Exception {
        ReplicationEntry template = EntryCodec.decodeReplicationEntry(KafkaEventRecords.byPartition(recordedEvent()).getFirst().getFirst().value());
        List<KafkaEvent.KafkaEventRecord> records = new ArrayList<>();
        String[] keys = {"a", "b", "a", "c", "a", "d"};
        for (int i = 0; i < keys.length; i++) {
            ReplicationEntry e = new ReplicationEntry("put", "srcbucket", new VersionKey(keys[i], "v" + i), template.metadata(), null);
            records.add(KafkaEvent.KafkaEventRecord.builder().withTopic("backbeat-replication").withPartition(0).withOffset(i)
                    .withKey(Base64.getEncoder().encodeToString(e.messageKey().getBytes(StandardCharsets.UTF_8)))
                    .withValue(Base64.getEncoder().encodeToString(EntryCodec.encode(e))).build());
        }
        KafkaEvent event = new KafkaEvent();
        event.setRecords(Map.of("backbeat-replication-0", records));
        CyclicBarrier othersTogether = new CyclicBarrier(3);
        List<String> order = new CopyOnWriteArrayList<>();
        SiteReplicator site = entry -> {
            order.add(entry.objectKey() + "@" + entry.versionId());
            if (!entry.objectKey().equals("a")) {
                try {
                    othersTogether.await(10, TimeUnit.SECONDS); // b, c and d can only pass together
                } catch (Exception e) {
                    throw new IllegalStateException("b, c and d were not replicated in parallel", e);
                }
            }
            return ReplicationOutcome.completed(1, 1);
        };

        BatchReplicator.BatchResult result = new BatchReplicator("aws-location", site, new EntryPublisher(producer),
                "backbeat-replication-status", 4, CLOCK, () -> {
        }).replicate(event);

        assertThat(result.completed()).isEqualTo(6);
        assertThat(order.stream().filter(o -> o.startsWith("a@"))).containsExactly("a@v0", "a@v2", "a@v4");
        assertThat(producer.history().stream().map(r -> EntryCodec.decodeStatusEntry(r.value()).versionKey().encoded())
                .filter(k -> k.startsWith("a"))).containsExactly("a\u0000v0", "a\u0000v2", "a\u0000v4");
    }

    /**
     * Found missing by the chaos matrix (issue 12): an entry naming a site no replicator serves stayed PENDING there
     * forever, listed nowhere. The replicator of the deployment's first site answers for it: FAILED, with the reason.
     */
    @Test
    void aSiteThatNoReplicatorServesGetsAFailedOutcomeFromTheFirstSitesReplicatorOnly() throws Exception {
        KafkaEvent event = recordedEvent(); // names aws-location only
        SiteReplicator fake = entry -> ReplicationOutcome.completed(1, 1);
        // The recorded batch's site is configured; a deployment without it must say so once, from its first site.
        BatchReplicator first = new BatchReplicator("a-first-site", fake, new EntryPublisher(producer), "backbeat-replication-status", 4,
                CLOCK, () -> {
        }, Set.of("a-first-site", "b-second-site"));
        BatchReplicator second = new BatchReplicator("b-second-site", fake, new EntryPublisher(producer), "backbeat-replication-status", 4,
                CLOCK, () -> {
        }, Set.of("a-first-site", "b-second-site"));

        assertThat(first.replicate(event)).isEqualTo(new BatchReplicator.BatchResult(0, 1, 0, 1, 0));
        assertThat(second.replicate(event)).isEqualTo(new BatchReplicator.BatchResult(0, 0, 0, 1, 0));

        assertThat(producer.history()).singleElement().satisfies(record -> {
            StatusEntry status = EntryCodec.decodeStatusEntry(record.value());
            assertThat(status.site()).isEqualTo("aws-location");
            assertThat(status.status()).isEqualTo(ReplicationStatus.FAILED);
            assertThat(status.reason()).startsWith("site 'aws-location' is not configured in this deployment")
                    .contains("[a-first-site, b-second-site]");
        });
    }

    /**
     * Issue 13: a copy that cannot finish before the invocation's deadline goes back on the topic, and so do the later
     * versions of its key (they must not overtake it), while other keys are replicated; a key whose earlier version is
     * being copied (progress saved by an earlier invocation) waits behind it; nothing deferred gets an outcome.
     */
    @Test
    void entriesNotFinishedByTheDeadlineGoBackOnTheTopicInOrderAndOtherKeysGoOn() throws Exception {
        ReplicationEntry template = EntryCodec.decodeReplicationEntry(KafkaEventRecords.byPartition(recordedEvent()).getFirst().getFirst().value());
        List<KafkaEvent.KafkaEventRecord> records = new ArrayList<>();
        String[][] versions = {{"big", "v1"}, {"small", "v2"}, {"big", "v3"}, {"waiting", "v5"}};
        for (int i = 0; i < versions.length; i++) {
            ReplicationEntry e = new ReplicationEntry("put", "srcbucket", new VersionKey(versions[i][0], versions[i][1]), template.metadata(), null);
            records.add(KafkaEvent.KafkaEventRecord.builder().withTopic("backbeat-replication").withPartition(0).withOffset(i)
                    .withKey(Base64.getEncoder().encodeToString(e.messageKey().getBytes(StandardCharsets.UTF_8)))
                    .withValue(Base64.getEncoder().encodeToString(EntryCodec.encode(e))).build());
        }
        KafkaEvent event = new KafkaEvent();
        event.setRecords(Map.of("backbeat-replication-0", records));
        List<String> tried = new CopyOnWriteArrayList<>();
        SiteReplicator site = sitePuttingBack((entry, deadline) -> {
            tried.add(entry.objectKey() + "@" + entry.versionId());
            assertThat(deadline).isEqualTo(CLOCK.instant().plusSeconds(60));
            return entry.objectKey().equals("big") ? ReplicationOutcome.deferred("copy in progress: 2 of 5 parts done", 1, 32)
                    : ReplicationOutcome.completed(1, 1);
        });
        // An earlier invocation left a copy of another version of "waiting" in progress.
        InMemoryCopyProgress progress = new InMemoryCopyProgress();
        progress.save(new io.backbeatserverless.core.transfer.CopyProgress("aws-location", "srcbucket", "waiting", "v4", null, "upload-1",
                "dest", "srcbucket/waiting", List.of(), CLOCK.instant(), null));
        BatchReplicator replicator = new BatchReplicator("aws-location", site, new EntryPublisher(producer), "backbeat-replication-status", 4,
                CLOCK, () -> {
        }, Set.of("aws-location"), new BatchReplicator.Resumption("backbeat-replication", progress));

        BatchReplicator.BatchResult result = replicator.replicate(event, CLOCK.instant().plusSeconds(60));

        assertThat(result).isEqualTo(new BatchReplicator.BatchResult(1, 0, 0, 0, 0, 3));
        assertThat(tried).containsExactlyInAnyOrder("big@v1", "small@v2");
        assertThat(producer.history()).extracting(r -> r.topic() + " " + r.key().replace("srcbucket%2F", ""))
                .containsExactlyInAnyOrder("backbeat-replication-status small", "backbeat-replication big", "backbeat-replication big",
                        "backbeat-replication waiting");
        assertThat(producer.history().stream().filter(r -> r.topic().equals("backbeat-replication"))
                .map(r -> EntryCodec.decodeReplicationEntry(r.value()).versionId()))
                .as("the key's versions back on the topic in their order").containsSubsequence("v1", "v3");
    }

    /**
     * Issue 28 #3: a version deferred before its copy started goes to the end of its partition, behind the later
     * versions of its key already there. A hold keeps them waiting: a later batch that brings the key's delete marker
     * m2 first and the deferred v1 after it replicates v1 first; one that brings m2 alone defers m2 behind v1. The
     * entry goes back for this site alone (the other site's replicator had it already), and the hold goes once v1 has
     * its outcome.
     */
    @Test
    void aVersionDeferredBeforeItsCopyStartedIsNotOvertakenByItsKeysLaterVersions() throws Exception {
        ReplicationEntry template = EntryCodec.decodeReplicationEntry(KafkaEventRecords.byPartition(recordedEvent()).getFirst().getFirst().value());
        var twoSites = template.metadata().withSiteStatus("other-site", ReplicationStatus.PENDING);
        ReplicationEntry kV1 = new ReplicationEntry("put", "srcbucket", new VersionKey("k", "v1"), twoSites, null);
        ReplicationEntry kM2 = new ReplicationEntry("put", "srcbucket", new VersionKey("k", "m2"), twoSites, null);
        ReplicationEntry jV1 = new ReplicationEntry("put", "srcbucket", new VersionKey("j", "v1"), twoSites, null);
        ReplicationEntry jM2 = new ReplicationEntry("put", "srcbucket", new VersionKey("j", "m2"), twoSites, null);
        Map<String, List<String>> tried = new java.util.concurrent.ConcurrentHashMap<>();
        SiteReplicator site = sitePuttingBack((entry, deadline) -> {
            tried.computeIfAbsent(entry.objectKey(), k -> new CopyOnWriteArrayList<>()).add(entry.versionId());
            return ReplicationOutcome.completed(1, 1);
        });
        InMemoryCopyProgress progress = new InMemoryCopyProgress();
        BatchReplicator replicator = new BatchReplicator("aws-location", site, new EntryPublisher(producer), "backbeat-replication-status", 4,
                CLOCK, () -> {
        }, Set.of("aws-location", "other-site"), new BatchReplicator.Resumption("backbeat-replication", progress));
        Instant later = CLOCK.instant().plusSeconds(60);

        // The first invocation's deadline has passed before either v1 is started.
        assertThat(replicator.replicate(eventOf(kV1, jV1), CLOCK.instant())).isEqualTo(new BatchReplicator.BatchResult(0, 0, 0, 0, 0, 2));
        assertThat(tried).isEmpty();
        for (String key : List.of("k", "j")) {
            assertThat(progress.hold(key)).hasValueSatisfying(p -> {
                assertThat(p.isHold()).isTrue();
                assertThat(p.versionId()).isEqualTo("v1");
            });
        }
        List<ReplicationEntry> requeued = requeued();
        assertThat(requeued).extracting(e -> e.objectKey() + "@" + e.versionId()).containsExactlyInAnyOrder("k@v1", "j@v1");
        assertThat(requeued).allSatisfy(e -> {
            assertThat(e.metadata().replicationInfo().orElseThrow().backends()).as("back for this site alone")
                    .extracting(b -> b.site()).containsExactly("aws-location");
            assertThat(e.deferred()).as("marked as put back").isTrue();
        });
        ReplicationEntry kV1Again = requeued.stream().filter(e -> e.objectKey().equals("k")).findFirst().orElseThrow();
        ReplicationEntry jV1Again = requeued.stream().filter(e -> e.objectKey().equals("j")).findFirst().orElseThrow();

        // The partition had each m2 after its v1's first place, so the re-queued k@v1 comes after k@m2; j@v1 is not
        // in this batch at all.
        producer.clear();
        assertThat(replicator.replicate(eventOf(kM2, kV1Again, jM2), later)).isEqualTo(new BatchReplicator.BatchResult(2, 0, 0, 0, 0, 1));
        assertThat(tried.get("k")).as("v1 before m2, whatever the partition's order now").containsExactly("v1", "m2");
        assertThat(tried).doesNotContainKey("j");
        assertThat(progress.hold("k")).as("k's hold gone once v1 had its outcome").isEmpty();
        assertThat(progress.hold("j")).as("j's m2 put back: the hold names it now").hasValueSatisfying(p -> assertThat(p.versionId()).isEqualTo("m2"));
        ReplicationEntry jM2Again = requeued().getFirst();
        assertThat(jM2Again.versionId()).isEqualTo("m2");

        replicator.replicate(eventOf(jV1Again, jM2Again), later);
        assertThat(tried.get("j")).containsExactly("v1", "m2");
        assertThat(progress.hold("j")).as("no hold left once each has its outcome").isEmpty();
    }

    /**
     * Issue 28 (found by the chaos run on the S3-events feed, after the first fix): two versions of a key put back at a
     * deadline, and a later one of the key already in the partition. The hold names the last one put back, so the later
     * version waits for both, not for the first alone (it went between them: the second was SKIPPED as superseded).
     */
    @Test
    void allTheVersionsOfAKeyPutBackGoBeforeItsLaterOnes() throws Exception {
        ReplicationEntry template = EntryCodec.decodeReplicationEntry(KafkaEventRecords.byPartition(recordedEvent()).getFirst().getFirst().value());
        ReplicationEntry v1 = new ReplicationEntry("put", "srcbucket", new VersionKey("k", "v1"), template.metadata(), null);
        ReplicationEntry v2 = new ReplicationEntry("put", "srcbucket", new VersionKey("k", "v2"), template.metadata(), null);
        ReplicationEntry v3 = new ReplicationEntry("put", "srcbucket", new VersionKey("k", "v3"), template.metadata(), null);
        List<String> tried = new CopyOnWriteArrayList<>();
        SiteReplicator site = sitePuttingBack((entry, deadline) -> {
            tried.add(entry.versionId());
            return ReplicationOutcome.completed(1, 1);
        });
        InMemoryCopyProgress progress = new InMemoryCopyProgress();
        BatchReplicator replicator = new BatchReplicator("aws-location", site, new EntryPublisher(producer), "backbeat-replication-status", 4,
                CLOCK, () -> {
        }, Set.of("aws-location"), new BatchReplicator.Resumption("backbeat-replication", progress));
        Instant later = CLOCK.instant().plusSeconds(60);

        replicator.replicate(eventOf(v1, v2), CLOCK.instant()); // both put back: the partition is now v3, v1', v2'
        List<ReplicationEntry> putBack = requeued();
        assertThat(progress.hold("k")).hasValueSatisfying(h -> assertThat(h.versionId()).isEqualTo("v2"));

        producer.clear();
        replicator.replicate(eventOf(v3, putBack.get(0)), later); // a batch that ends between v1' and v2'
        assertThat(tried).as("v1 goes; v3 waits behind v2, which is still to come").containsExactly("v1");
        ReplicationEntry v3Again = requeued().getFirst();
        assertThat(v3Again.versionId()).isEqualTo("v3");
        assertThat(progress.hold("k")).as("v3 put back in turn: the hold names it").hasValueSatisfying(h -> assertThat(h.versionId()).isEqualTo("v3"));

        replicator.replicate(eventOf(putBack.get(1), v3Again), later);
        assertThat(tried).containsExactly("v1", "v2", "v3");
        assertThat(progress.hold("k")).isEmpty();
    }

    /**
     * Issue 31: a version whose retries would go on past its set-aside time (5 s after it started, by default) is set aside:
     * put back on the topic behind a hold with its key's later versions, while the batch's other keys complete. Put back
     * once, it is not set aside again: the next batch gives it the whole retry policy (no set-aside time).
     */
    @Test
    void aVersionSetAsideForItsRetriesGoesBackBehindAHoldWithItsKeysLaterVersionsAndIsNotSetAsideTwice() throws Exception {
        ReplicationEntry template = EntryCodec.decodeReplicationEntry(KafkaEventRecords.byPartition(recordedEvent()).getFirst().getFirst().value());
        ReplicationEntry slowV1 = new ReplicationEntry("put", "srcbucket", new VersionKey("slow", "v1"), template.metadata(), null);
        ReplicationEntry slowV2 = new ReplicationEntry("put", "srcbucket", new VersionKey("slow", "v2"), template.metadata(), null);
        ReplicationEntry quick = new ReplicationEntry("put", "srcbucket", new VersionKey("quick", "v1"), template.metadata(), null);
        Map<String, Instant> setAsideTimes = new java.util.concurrent.ConcurrentHashMap<>();
        List<String> tried = new CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean throttling = new java.util.concurrent.atomic.AtomicBoolean(true);
        SiteReplicator site = siteGivenTheSetAsideTime((entry, setAsideAt) -> {
            tried.add(entry.objectKey() + "@" + entry.versionId());
            setAsideTimes.put(entry.objectKey() + "@" + entry.versionId() + (entry.deferred() ? "'" : ""),
                    setAsideAt == null ? Instant.EPOCH : setAsideAt);
            return entry.objectKey().equals("slow") && throttling.get() && setAsideAt != null
                    ? ReplicationOutcome.setAside("after 3 attempt(s) in 4.2 s: SlowDown (HTTP 503): SlowDown", 3)
                    : ReplicationOutcome.completed(1, 1);
        });
        InMemoryCopyProgress progress = new InMemoryCopyProgress();
        BatchReplicator replicator = new BatchReplicator("aws-location", site, new EntryPublisher(producer), "backbeat-replication-status", 4,
                CLOCK, () -> {
        }, Set.of("aws-location"), new BatchReplicator.Resumption("backbeat-replication", progress), null, Long.MAX_VALUE,
                Duration.ofSeconds(5));

        BatchReplicator.BatchResult first = replicator.replicate(eventOf(slowV1, quick, slowV2), CLOCK.instant().plusSeconds(600));

        assertThat(first).as("quick completed; slow@v1 set aside and slow@v2 behind it").isEqualTo(new BatchReplicator.BatchResult(1, 0, 0, 0, 0, 2));
        assertThat(tried).containsExactlyInAnyOrder("slow@v1", "quick@v1");
        assertThat(setAsideTimes.get("slow@v1")).as("5 s after it started, before the deadline").isEqualTo(CLOCK.instant().plusSeconds(5));
        assertThat(progress.hold("slow")).hasValueSatisfying(h -> assertThat(h.versionId()).isEqualTo("v2"));
        List<ReplicationEntry> putBack = requeued();
        assertThat(putBack).extracting(e -> e.versionId()).containsExactly("v1", "v2");
        assertThat(producer.history()).filteredOn(r -> r.topic().equals("backbeat-replication-status")).hasSize(1);

        producer.clear();
        tried.clear();
        BatchReplicator.BatchResult second = replicator.replicate(eventOf(putBack.get(0), putBack.get(1)), CLOCK.instant().plusSeconds(600));

        assertThat(second).isEqualTo(new BatchReplicator.BatchResult(2, 0, 0, 0, 0, 0));
        assertThat(tried).containsExactly("slow@v1", "slow@v2");
        assertThat(setAsideTimes.get("slow@v1'")).as("put back once: the whole retry policy, no set-aside").isEqualTo(Instant.EPOCH);
        assertThat(progress.hold("slow")).isEmpty();
    }

    @Test
    void theSetAsideTimeIsTheDeadlineWhenThatComesFirst() throws Exception {
        ReplicationEntry template = EntryCodec.decodeReplicationEntry(KafkaEventRecords.byPartition(recordedEvent()).getFirst().getFirst().value());
        List<Instant> setAsideAt = new CopyOnWriteArrayList<>();
        SiteReplicator site = siteGivenTheSetAsideTime((entry, at) -> {
            setAsideAt.add(at);
            return ReplicationOutcome.completed(1, 1);
        });
        BatchReplicator replicator = new BatchReplicator("aws-location", site, new EntryPublisher(producer), "backbeat-replication-status", 4,
                CLOCK, () -> {
        }, Set.of("aws-location"), new BatchReplicator.Resumption("backbeat-replication", new InMemoryCopyProgress()), null,
                Long.MAX_VALUE, Duration.ofSeconds(5));

        replicator.replicate(eventOf(new ReplicationEntry("put", "srcbucket", new VersionKey("k", "v1"), template.metadata(), null)),
                CLOCK.instant().plusSeconds(2));

        assertThat(setAsideAt).containsExactly(CLOCK.instant().plusSeconds(2));
    }

    private List<ReplicationEntry> requeued() {
        return producer.history().stream().filter(r -> r.topic().equals("backbeat-replication"))
                .map(r -> EntryCodec.decodeReplicationEntry(r.value())).toList();
    }

    /** A site replicator that answers with {@code replicate}, which is given the entry's set-aside time. */
    private static SiteReplicator siteGivenTheSetAsideTime(java.util.function.BiFunction<ReplicationEntry, Instant, ReplicationOutcome> replicate) {
        return new SiteReplicator() {
            @Override
            public ReplicationOutcome replicate(ReplicationEntry entry) {
                return replicate(entry, null, null);
            }

            @Override
            public ReplicationOutcome replicate(ReplicationEntry entry, Instant deadline, Instant setAsideAt) {
                return replicate.apply(entry, setAsideAt);
            }
        };
    }

    /** A site replicator that answers with {@code replicate}, which is given the batch's deadline. */
    private static SiteReplicator sitePuttingBack(java.util.function.BiFunction<ReplicationEntry, Instant, ReplicationOutcome> replicate) {
        return new SiteReplicator() {
            @Override
            public ReplicationOutcome replicate(ReplicationEntry entry) {
                return replicate(entry, null);
            }

            @Override
            public ReplicationOutcome replicate(ReplicationEntry entry, Instant deadline) {
                return replicate.apply(entry, deadline);
            }
        };
    }

    private static KafkaEvent eventOf(ReplicationEntry... entries) {
        List<KafkaEvent.KafkaEventRecord> records = new ArrayList<>();
        for (int i = 0; i < entries.length; i++) {
            records.add(KafkaEvent.KafkaEventRecord.builder().withTopic("backbeat-replication").withPartition(0).withOffset(i)
                    .withKey(Base64.getEncoder().encodeToString(entries[i].messageKey().getBytes(StandardCharsets.UTF_8)))
                    .withValue(Base64.getEncoder().encodeToString(EntryCodec.encode(entries[i]))).build());
        }
        KafkaEvent event = new KafkaEvent();
        event.setRecords(Map.of("backbeat-replication-0", records));
        return event;
    }

    /** The progress port in memory, for the batch logic alone (the DynamoDB adapter is tested against dynalite). */
    private static final class InMemoryCopyProgress implements io.backbeatserverless.core.transfer.CopyProgressStore {
        private final Map<String, io.backbeatserverless.core.transfer.CopyProgress> items = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public java.util.Optional<io.backbeatserverless.core.transfer.CopyProgress> find(String site, String bucket, String objectKey) {
            return java.util.Optional.ofNullable(items.get(site + "/" + bucket + "/" + objectKey));
        }

        @Override
        public Set<String> inProgress(String site, String bucket, java.util.Collection<String> objectKeys) {
            return objectKeys.stream().filter(k -> items.containsKey(site + "/" + bucket + "/" + k)).collect(java.util.stream.Collectors.toSet());
        }

        @Override
        public void save(io.backbeatserverless.core.transfer.CopyProgress p) {
            items.put(p.site() + "/" + p.bucket() + "/" + p.objectKey(), p);
        }

        @Override
        public void remove(String site, String bucket, String objectKey) {
            items.remove(site + "/" + bucket + "/" + objectKey);
        }

        private final Map<String, io.backbeatserverless.core.transfer.CopyProgress> holds = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public Map<String, io.backbeatserverless.core.transfer.CopyProgress> holds(String site, String bucket, java.util.Collection<String> objectKeys) {
            Map<String, io.backbeatserverless.core.transfer.CopyProgress> found = new java.util.HashMap<>();
            objectKeys.forEach(k -> {
                var hold = holds.get(site + "/" + bucket + "/" + k);
                if (hold != null) {
                    found.put(k, hold);
                }
            });
            return found;
        }

        @Override
        public void saveHold(io.backbeatserverless.core.transfer.CopyProgress hold) {
            holds.put(hold.site() + "/" + hold.bucket() + "/" + hold.objectKey(), hold);
        }

        @Override
        public void removeHold(String site, String bucket, String objectKey) {
            holds.remove(site + "/" + bucket + "/" + objectKey);
        }

        java.util.Optional<io.backbeatserverless.core.transfer.CopyProgress> hold(String key) {
            return java.util.Optional.ofNullable(holds.get("aws-location/srcbucket/" + key));
        }
    }

    private BatchReplicator replicator(String site, ReplicationOutcome outcome) {
        SiteReplicator fake = entry -> {
            replicated.add(entry);
            return outcome;
        };
        return new BatchReplicator(site, fake, new EntryPublisher(producer), "backbeat-replication-status", 4, CLOCK, () -> {
        });
    }

    static KafkaEvent recordedEvent() throws Exception {
        try (InputStream in = Files.newInputStream(Path.of("../../events/replicator-kafka-batch.json"))) {
            return LambdaEventSerializers.serializerFor(KafkaEvent.class, BatchReplicatorTest.class.getClassLoader()).fromJson(in);
        }
    }
}
