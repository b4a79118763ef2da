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
}
