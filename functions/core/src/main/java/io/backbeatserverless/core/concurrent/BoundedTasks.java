package io.backbeatserverless.core.concurrent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Runs tasks on virtual threads, at most {@code concurrency} at once (the store or server round trips they wait on
 * are the limit, not threads), and returns their results in the tasks' order. The first failure is thrown once all
 * have ended: a RuntimeException as it was, anything else wrapped.
 */
public final class BoundedTasks {

    private BoundedTasks() {
    }

    public static <T> List<T> run(List<? extends Callable<T>> tasks, int concurrency) {
        Semaphore permits = new Semaphore(concurrency);
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Callable<T> task : tasks) {
                futures.add(executor.submit(() -> {
                    permits.acquire();
                    try {
                        return task.call();
                    } finally {
                        permits.release();
                    }
                }));
            }
            List<T> results = new ArrayList<>(futures.size());
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for tasks", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }
}
