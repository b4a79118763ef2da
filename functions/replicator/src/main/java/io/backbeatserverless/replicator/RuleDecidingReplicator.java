package io.backbeatserverless.replicator;

import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.retry.Retrier;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationRule;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Chooses the rule of a version the populator queued with its rule undecided (issue 28: its tags were unreadable
 * there, and one unreadable version must neither hold back its batch nor vanish), then hands it to the site's
 * replicator. It reads the version's tags from the source and chooses among the candidate rules the entry carries,
 * with {@link ReplicationConfiguration#ruleFor}, the one rule-matching there is: a version the chosen rule does not send
 * to this site is SKIPPED, saying which rule its tags chose; one whose tags cannot be read here either is FAILED with the
 * reason (retryable: the retry carries the candidates again); one gone at the source is SKIPPED, as anywhere else.
 * Entries whose rule was chosen at the source go straight through.
 */
public final class RuleDecidingReplicator implements SiteReplicator {

    private final String site;
    private final SiteReplicator replicator;
    private final S3Client source;
    private final Retrier retrier;

    public RuleDecidingReplicator(String site, SiteReplicator replicator, S3Client source, Retrier retrier) {
        this.site = site;
        this.replicator = replicator;
        this.source = source;
        this.retrier = retrier;
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry) {
        return replicate(entry, null);
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry, Instant deadline) {
        return replicate(entry, deadline, null);
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry, Instant deadline, Instant setAsideAt) {
        Optional<ReplicationConfiguration> candidates = entry.metadata().undecidedRules();
        if (candidates.isEmpty()) {
            return replicator.replicate(entry, deadline, setAsideAt);
        }
        Retrier.Budget budget = retrier.newBudget(setAsideAt);
        Map<String, String> tags;
        try {
            tags = retrier.call(budget, () -> tagsOf(entry));
        } catch (Exception e) {
            ReplicationOutcome unreadable = ReplicationOutcome.of(e, budget.attempts());
            return unreadable.status() == io.backbeatserverless.core.status.ReplicationStatus.FAILED
                    ? ReplicationOutcome.failed("its tags, which choose its replication rule, could not be read: " + unreadable.reason(),
                    unreadable.attempts())
                    : unreadable;
        }
        Optional<ReplicationRule> rule = candidates.get().ruleFor(entry.objectKey(), tags);
        if (rule.isEmpty() || !rule.get().sites().contains(site)) {
            return ReplicationOutcome.skipped("not replicated to " + site + ": its tags " + tags + " choose "
                    + rule.map(r -> "rule '" + r.id() + "' (sites " + r.sites() + ")").orElse("no replication rule"), budget.attempts());
        }
        return replicator.replicate(entry.withMetadata(entry.metadata().decidedBy(rule.get(), tags)), deadline, setAsideAt);
    }

    private Map<String, String> tagsOf(ReplicationEntry entry) {
        Map<String, String> tags = new LinkedHashMap<>();
        try {
            source.getObjectTagging(r -> r.bucket(entry.bucket()).key(entry.objectKey()).versionId(replicator.sourceVersion(entry)))
                    .tagSet().forEach(t -> tags.put(t.key(), t.value()));
        } catch (SdkException e) {
            throw new ReplicationErrors.SourceReadException("GET tagging from the source", e);
        }
        return tags;
    }

    @Override
    public String sourceVersion(ReplicationEntry entry) {
        return replicator.sourceVersion(entry);
    }

    @Override
    public void close() {
        replicator.close();
    }
}
