package io.backbeatserverless.adapters.snapstart;

import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A function's runtime under SnapStart (issue 33), through its runtime hooks: CRaC's {@link Resource}, which Lambda calls
 * {@code beforeCheckpoint} when it takes the snapshot of the initialized function and {@code afterRestore} in each
 * execution environment it resumes from that snapshot
 * (https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-java.html).
 *
 * <ul>
 * <li>Before the snapshot, <b>priming</b>: the function's hot path exercised with no side effect, so that the snapshot
 *     holds its classes loaded and initialized (the entry codec, the rules parser, Jackson, and the SDK's marshalling,
 *     signing and interceptors: {@link SdkPriming}, whose requests stop before they are sent).</li>
 * <li>After a restore, the runtime is <b>built again</b> and the snapshot's closed: one snapshot resumes many
 *     environments, so nothing of it that must be one environment's own is kept — pooled connections (their peers
 *     see one socket from many places, or none), credentials read at initialization (expired by then), a Kafka
 *     producer (its idempotent producer id and sequence numbers would be shared by every environment), and any id or
 *     random seed drawn at initialization ("Handling uniqueness with Lambda SnapStart": generate them after).</li>
 * </ul>
 * Outside SnapStart (Lambda without it, the local runs, the tests) no hook is called, and the runtime built at
 * initialization serves every invocation, as before.
 *
 * @param <T> the function's runtime (its clients and state)
 */
public final class SnapStartHooks<T extends AutoCloseable> implements Resource {

    private static final Logger LOG = LoggerFactory.getLogger(SnapStartHooks.class);

    private final Supplier<T> build;
    private final Consumer<T> prime;
    private volatile T current;
    private volatile int restores;

    private SnapStartHooks(Supplier<T> build, Consumer<T> prime, T first) {
        this.build = build;
        this.prime = prime;
        this.current = first;
    }

    /**
     * The runtime {@code build} makes now, with hooks registered with CRaC's global context (which holds them weakly:
     * the caller keeps the returned object, a handler's field).
     *
     * @param prime what exercises the runtime's hot path without a side effect, before the snapshot
     */
    public static <T extends AutoCloseable> SnapStartHooks<T> register(Supplier<T> build, Consumer<T> prime) {
        SnapStartHooks<T> hooks = new SnapStartHooks<>(build, prime, build.get());
        Core.getGlobalContext().register(hooks);
        return hooks;
    }

    /** A runtime given (a test's): no hooks registered, never built again. */
    public static <T extends AutoCloseable> SnapStartHooks<T> fixed(T runtime) {
        return new SnapStartHooks<>(() -> runtime, r -> { }, runtime);
    }

    /** The runtime invocations use: the one built at initialization, or after the last restore. */
    public T current() {
        return current;
    }

    /** How many restores this environment has seen (0 or 1 in Lambda). */
    public int restores() {
        return restores;
    }

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) {
        long started = System.nanoTime();
        prime.accept(current);
        SdkPriming.prime();
        LOG.info("SnapStart: primed in {} ms before the snapshot", (System.nanoTime() - started) / 1_000_000);
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) throws Exception {
        long started = System.nanoTime();
        T snapshot = current;
        current = build.get();
        restores++;
        try {
            snapshot.close();
        } catch (Exception e) {
            // Its connections were the snapshot's: closing them can fail, and nothing depends on it.
            LOG.debug("SnapStart: closing the snapshot's runtime: {}", e.toString());
        }
        LOG.info("SnapStart: runtime built again after the restore in {} ms", (System.nanoTime() - started) / 1_000_000);
    }
}
