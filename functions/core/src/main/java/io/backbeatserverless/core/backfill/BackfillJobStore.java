package io.backbeatserverless.core.backfill;

import java.util.List;
import java.util.Optional;

/**
 * Where backfill jobs, their pages and the sites' answers are kept (the DynamoDB adapter keeps them beside the versions'
 * statuses, so that status lookups answer for a page's versions as for any other). One item per page, one per job,
 * and counters per site and thousand pages: a page of a thousand versions costs a few writes, not a thousand.
 */
public interface BackfillJobStore {

    /** Creates the job; false when one of its id exists already (a start repeated after a crash). */
    boolean create(BackfillJob job);

    Optional<BackfillJob> find(String id);

    /** The newest jobs first, at most {@code limit}. */
    List<BackfillJob> list(int limit);

    /** The jobs still listing. */
    List<BackfillJob> listing();

    /** The jobs whose id starts with {@code prefix}, with their progress: a verify run's repair jobs, say. */
    List<BackfillJob> withIdsStartingWith(String prefix);

    /**
     * Records a page as published: its versions, PENDING at each of its sites. Written before the page is published, so a
     * status lookup of one of its versions never answers "unknown" for a version on its way (replayed: written again).
     */
    void savePage(BackfillPage page);

    /**
     * Moves the job's listing past {@code pages} (those published for the page listed: none when nothing was selected on
     * it, one per partition its keys' live entries go to) to {@code cursor}, on the
     * condition that its cursor is still the one {@code job} was read with (a second populator listing the same job loses).
     * {@code scanned}: versions listed. {@code done}: the listing reached the end. {@code sites}: the sites the job's pages
     * go to, kept on a job that named none (every site of the bucket's rules). False when the condition failed.
     */
    boolean advance(BackfillJob job, String cursor, List<BackfillPage> pages, long scanned, boolean done, String at, List<String> sites);

    /** Stops a job's listing with the reason (its bucket lost its rules, ...). */
    void fail(BackfillJob job, String reason);

    /**
     * Records one site's answer for one part of a page: the page's versions that site did not complete, and those still to
     * come, and the job's counters, once per part (an outcome delivered again changes nothing). True when it was new.
     */
    boolean recordOutcome(PageOutcome outcome);

    /**
     * The page {@code outcome} answers, as recorded, with only the versions its site has completed there (none of them put
     * back, none FAILED or SKIPPED): what a source that keeps each version's status in the version itself (CloudServer's
     * {@code replicationInfo}) is told, once the page is done at that site. Empty for a page not recorded, or whose source
     * was told already ({@link #sourceTold}).
     */
    Optional<BackfillPage> completedUntold(PageOutcome outcome);

    /** Notes that the source was told of every version {@code outcome}'s site completed on its page. */
    void sourceTold(PageOutcome outcome);
}
