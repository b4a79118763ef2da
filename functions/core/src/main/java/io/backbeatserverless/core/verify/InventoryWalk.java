package io.backbeatserverless.core.verify;

import java.util.List;

/**
 * Where a verify run stands in a bucket it checks by inventory reports (issue 29): the reports read (the source's, then
 * each site's), the data files already split into shards by key hash, the shards already compared, and in the shard being
 * compared, the last key audited live. Saved with the run after every step.
 *
 * @param reports        the source's report first, then one per site and bucket there
 * @param shards         how many shards the rows are split into (each compared in one step, its rows held in memory)
 * @param filesDone      data files split so far, counted across the reports in order
 * @param shardsDone     shards compared so far
 * @param candidateAfter in the shard being compared, the last candidate key audited (null: none yet)
 * @param rows           rows read from the source's report so far
 */
public record InventoryWalk(List<Report> reports, int shards, int filesDone, int shardsDone, String candidateAfter, long rows) {

    /**
     * One report: whose ({@code site} null for the source's), the bucket it lists, its manifest, how many data files it has.
     *
     * @param location where the reports are delivered (an {@code s3://bucket/prefix} URI)
     */
    public record Report(String site, String bucket, String location, String manifestKey, int files) {
    }

    public InventoryWalk {
        reports = List.copyOf(reports);
    }

    public int files() {
        return reports.stream().mapToInt(Report::files).sum();
    }

    public InventoryWalk withFileSplit(long sourceRows) {
        return new InventoryWalk(reports, shards, filesDone + 1, shardsDone, null, rows + sourceRows);
    }

    public InventoryWalk withShardDone() {
        return new InventoryWalk(reports, shards, filesDone, shardsDone + 1, null, rows);
    }

    public InventoryWalk withCandidatesAuditedThrough(String key) {
        return new InventoryWalk(reports, shards, filesDone, shardsDone, key, rows);
    }
}
