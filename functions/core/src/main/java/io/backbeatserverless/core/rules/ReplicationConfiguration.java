package io.backbeatserverless.core.rules;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/** A bucket's replication configuration: the role and its rules. Rule matching lives here, and only here. */
public record ReplicationConfiguration(String role, List<ReplicationRule> rules) {

    public ReplicationConfiguration {
        rules = List.copyOf(rules);
    }

    /**
     * The rule that selects this object version, if any: among enabled rules whose filter matches,
     * the highest priority wins, then the first declared (as S3 resolves overlaps).
     */
    public Optional<ReplicationRule> ruleFor(String objectKey, Map<String, String> objectTags) {
        ReplicationRule best = null;
        for (ReplicationRule rule : rules) {
            if (rule.matches(objectKey, objectTags) && (best == null || rule.priority() > best.priority())) {
                best = rule;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Whether some enabled rule could select {@code objectKey} but needs tags to decide. */
    public boolean needsTagsFor(String objectKey) {
        return rules.stream().anyMatch(r -> r.enabled() && r.filtersOnTags() && objectKey.startsWith(r.prefix()));
    }

    /**
     * The enabled rules that could select {@code objectKey} whatever its tags: what is left to choose from when its tags
     * cannot be read (their sites are where the version may have to go). Empty when none could.
     */
    public Optional<ReplicationConfiguration> candidatesFor(String objectKey) {
        List<ReplicationRule> candidates = rules.stream().filter(r -> r.enabled() && objectKey.startsWith(r.prefix())).toList();
        return candidates.isEmpty() ? Optional.empty() : Optional.of(new ReplicationConfiguration(role, candidates));
    }

    /** Every site some enabled rule replicates to. */
    public Collection<String> sites() {
        TreeSet<String> sites = new TreeSet<>();
        rules.stream().filter(ReplicationRule::enabled).forEach(r -> sites.addAll(r.sites()));
        return sites;
    }

    /**
     * Checks what a parser cannot: that every site named exists here, as CloudServer checks
     * StorageClass against its configured locations.
     */
    public ReplicationConfiguration requireKnownSites(Collection<String> knownSites) {
        for (int i = 0; i < rules.size(); i++) {
            for (String site : rules.get(i).sites()) {
                if (!knownSites.contains(site)) {
                    throw new InvalidReplicationConfigurationException("Rules[" + i + "].Destination.StorageClass names unknown site '"
                            + site + "' (configured sites: " + String.join(", ", new TreeSet<>(knownSites)) + ")");
                }
            }
        }
        return this;
    }

}
