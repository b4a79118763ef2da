package io.backbeatserverless.core.transfer;

import java.util.Collection;
import java.util.Optional;
import java.util.Set;

/** Where resumable copies keep their {@link CopyProgress}: at most one per site and source key (versions of a key go in order). */
public interface CopyProgressStore {

    Optional<CopyProgress> find(String site, String bucket, String objectKey);

    /** Of these keys of {@code bucket}, those with a copy in progress to {@code site} (one read for all of them). */
    Set<String> inProgress(String site, String bucket, Collection<String> objectKeys);

    void save(CopyProgress progress);

    void remove(String site, String bucket, String objectKey);

    /**
     * Of these keys of {@code bucket}, those with a hold at {@code site} ({@link CopyProgress#hold}: entries of the key put
     * back at a deadline, the last of them named), each with its hold (one read for all of them). Kept apart from the
     * copies in progress: a key can have both.
     */
    java.util.Map<String, CopyProgress> holds(String site, String bucket, Collection<String> objectKeys);

    void saveHold(CopyProgress hold);

    void removeHold(String site, String bucket, String objectKey);
}
