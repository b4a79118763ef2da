package io.backbeatserverless.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/** The benchmarks' two ways of putting load: as fast as some threads go, and paced at a fixed rate. */
final class LoadGenerator {

    /** One operation, numbered from 0. */
    interface Operation {
        void run(int number) throws Exception;
    }

    private LoadGenerator() {
    }

    /** Operations 0 to count - 1 by {@code threads} threads, as fast as they go. */
    static void burst(int threads, int count, Operation operation) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int number = i;
                done.add(pool.submit(() -> {
                    operation.run(number);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
    }

    /**
     * Operations 0 to total - 1, operation i started at start + i / rate whatever the previous ones took (so a slow
     * server does not slow the offered load), by {@code threads} threads. Returns the rate achieved.
     */
    static double paced(int threads, int total, double rate, Operation operation) throws Exception {
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime() + 100_000_000L;
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
                        long due = start + (long) (i * 1e9 / rate);
                        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                            LockSupport.parkNanos(wait);
                        }
                        operation.run(i);
                    }
                    return null;
                }));
            }
            for (Future<?> w : workers) {
                w.get();
            }
        }
        return total / ((System.nanoTime() - start) / 1e9);
    }
}
