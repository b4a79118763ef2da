package io.backbeatserverless.core.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Whether a replica is identical to its source version, and if not, what differs: the size, the ETag
 * (when both are content MD5s and the site's ETags can be compared), each content header, the user
 * metadata, the tags, the Object Lock in force, the encryption the site's configuration asks for, and the replica
 * marker. The one place that says what "identical" means.
 */
public final class ReplicaComparison {

    private ReplicaComparison() {
    }

    /** Human-readable differences, empty when the replica is identical. */
    public static List<String> differences(VersionDetails source, VersionDetails replica, boolean compareEtags) {
        return differences(source, replica, compareEtags, null);
    }

    /**
     * @param encryption the site's rule for its replicas' encryption; null: the encryption is not compared (a CloudServer
     *                   site encrypts with its bucket's own settings)
     */
    public static List<String> differences(VersionDetails source, VersionDetails replica, boolean compareEtags,
                                           io.backbeatserverless.core.metadata.ReplicaEncryption encryption) {
        List<String> differences = differencesBesideMetadata(source, replica, compareEtags, encryption);
        differences.addAll(metadataDifferences(source, replica));
        return differences;
    }

    /**
     * Whether the replica differs from its source by what a change of metadata alone changes (its tags, its retention and
     * legal hold): updating it in place repairs it (S3 Replication replicates such changes as such; copying the bytes
     * again would add a version at the site).
     */
    public static boolean onlyMetadataDiffers(VersionDetails source, VersionDetails replica, boolean compareEtags,
                                              io.backbeatserverless.core.metadata.ReplicaEncryption encryption) {
        return differencesBesideMetadata(source, replica, compareEtags, encryption).isEmpty() && !metadataDifferences(source, replica).isEmpty();
    }

    private static List<String> metadataDifferences(VersionDetails source, VersionDetails replica) {
        List<String> differences = new ArrayList<>();
        if (source.tags() != null && replica.tags() != null) {
            mapDifferences("tag ", source.tags(), replica.tags(), differences);
        }
        if (source.protection() != null && replica.protection() != null) {
            for (String lock : List.of(VersionDetails.LOCK_MODE, VersionDetails.LOCK_UNTIL, VersionDetails.LEGAL_HOLD)) {
                String at = source.protection().get(lock);
                String there = replica.protection().get(lock);
                if (!Objects.equals(at, there)) {
                    differences.add(lock + ": " + describe(at) + " at the source, " + describe(there) + " at the site");
                }
            }
        }
        return differences;
    }

    private static List<String> differencesBesideMetadata(VersionDetails source, VersionDetails replica, boolean compareEtags,
                                                          io.backbeatserverless.core.metadata.ReplicaEncryption encryption) {
        List<String> differences = new ArrayList<>();
        if (encryption != null && source.protection() != null && replica.protection() != null) {
            // What the site's rule asks of this replica (S3 cannot change a version's encryption in place: a copy repairs it).
            String sourceMode = source.protection().get(VersionDetails.ENCRYPTION);
            String mode = encryption.replicaMode(sourceMode);
            String there = replica.protection().get(VersionDetails.ENCRYPTION);
            if (mode != null && !mode.equals(there)) {
                differences.add("encryption: " + describe(mode) + " expected at the site (source " + describe(sourceMode) + "), "
                        + describe(there) + " there");
            }
            String key = encryption.replicaKmsKeyId(sourceMode);
            if (key != null && !key.equals(replica.protection().get(VersionDetails.KMS_KEY))) {
                differences.add("KMS key: " + describe(key) + " expected at the site, " + describe(replica.protection().get(VersionDetails.KMS_KEY))
                        + " there");
            }
        }
        if (source.size() != replica.size()) {
            differences.add("size " + source.size() + " at the source, " + replica.size() + " at the site");
        }
        if (compareEtags && isContentMd5(source.eTag()) && isContentMd5(replica.eTag()) && !source.eTag().equals(replica.eTag())) {
            differences.add("ETag " + source.eTag() + " at the source, " + replica.eTag() + " at the site");
        }
        mapDifferences("", source.contentHeaders(), withoutDefaultType(source.contentHeaders(), replica.contentHeaders()), differences);
        mapDifferences("metadata ", source.userMetadata(), replica.userMetadata(), differences);
        if (!replica.replica()) {
            differences.add("the replica marker is missing at the site");
        }
        return differences;
    }

    /**
     * The types a store gives an object whose PUT names none: S3's {@code binary/octet-stream} (the AWS SDKs' documented
     * default for ContentType) and {@code application/octet-stream} (what the SDK v2 sends for a body of no stated type,
     * and many stores' default).
     */
    private static final java.util.Set<String> NO_TYPE_DEFAULTS = java.util.Set.of("binary/octet-stream", "application/octet-stream");

    /**
     * The replica's content headers, with a default Content-Type left out where the source has none. CloudServer keeps no
     * type for an object put without one, and its GET names none; any S3 site gives the replica a type all the same (found
     * by hand against CloudServer 8.8.35: every replica of such objects read DIVERGENT, and no repair could change it).
     */
    private static Map<String, String> withoutDefaultType(Map<String, String> source, Map<String, String> replica) {
        String type = replica.get("content-type");
        if (source.containsKey("content-type") || type == null || !NO_TYPE_DEFAULTS.contains(type.toLowerCase(java.util.Locale.ROOT))) {
            return replica;
        }
        Map<String, String> rest = new java.util.TreeMap<>(replica);
        rest.remove("content-type");
        return rest;
    }

    /** A single-part upload's ETag: the MD5 of the bytes (32 hex digits). A multipart ETag ends with -<parts>. */
    public static boolean isContentMd5(String eTag) {
        return eTag != null && eTag.length() == 32 && eTag.chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    private static void mapDifferences(String what, Map<String, String> source, Map<String, String> replica, List<String> into) {
        for (String name : new TreeSet<>(union(source, replica))) {
            String at = source.get(name);
            String there = replica.get(name);
            if (!Objects.equals(at, there)) {
                into.add(what + name + ": " + describe(at) + " at the source, " + describe(there) + " at the site");
            }
        }
    }

    private static java.util.Set<String> union(Map<String, String> a, Map<String, String> b) {
        java.util.Set<String> all = new java.util.HashSet<>(a.keySet());
        all.addAll(b.keySet());
        return all;
    }

    private static String describe(String value) {
        return value == null ? "absent" : "'" + value + "'";
    }
}
