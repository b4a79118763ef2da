package io.backbeatserverless.core.transfer;

import java.util.ArrayList;
import java.util.List;

/**
 * How an object is cut into multipart-upload parts, Backbeat's way: 16 MiB parts, the size doubled
 * until the object fits in at most 1,000 parts (S3's hard limit is 10,000).
 */
public record PartPlan(long objectSize, long partSize, List<Part> parts) {

    public static final long DEFAULT_PART_SIZE = 16L * 1024 * 1024;
    public static final int TARGET_MAX_PARTS = 1_000;
    public static final int S3_MAX_PARTS = 10_000;

    public PartPlan {
        parts = List.copyOf(parts);
    }

    public static PartPlan of(long objectSize) {
        return of(objectSize, DEFAULT_PART_SIZE);
    }

    public static PartPlan of(long objectSize, long initialPartSize) {
        if (objectSize < 0) {
            throw new IllegalArgumentException("object size must not be negative");
        }
        long partSize = initialPartSize;
        while (ceilDiv(objectSize, partSize) > TARGET_MAX_PARTS) {
            partSize *= 2;
        }
        List<Part> parts = new ArrayList<>();
        for (long start = 0; start < objectSize; start += partSize) {
            parts.add(new Part(parts.size() + 1, start, Math.min(partSize, objectSize - start)));
        }
        if (parts.size() > S3_MAX_PARTS) {
            throw new IllegalStateException("object of " + objectSize + " bytes needs " + parts.size() + " parts");
        }
        return new PartPlan(objectSize, partSize, parts);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** One part: its 1-based number and its byte range. */
    public record Part(int number, long offset, long length) {
        /** The HTTP Range header selecting this part. */
        public String range() {
            return "bytes=" + offset + "-" + (offset + length - 1);
        }
    }
}
