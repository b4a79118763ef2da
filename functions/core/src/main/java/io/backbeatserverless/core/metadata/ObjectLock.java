package io.backbeatserverless.core.metadata;

import java.time.Instant;

/**
 * A version's S3 Object Lock: its retention mode ({@code GOVERNANCE}, {@code COMPLIANCE}) and date, and its legal hold
 * ({@code ON}, {@code OFF}); each null when the version has none. What a replica carries of it, and what verify
 * compares, is what is in force ({@link #inForce}).
 */
public record ObjectLock(String mode, Instant retainUntil, String legalHold) {

    /** The retention still in force at {@code now} (S3 refuses a retain-until date in the past), and a legal hold ON. */
    public ObjectLock inForce(Instant now) {
        boolean retained = mode != null && retainUntil != null && retainUntil.isAfter(now);
        return new ObjectLock(retained ? mode : null, retained ? retainUntil : null, "ON".equals(legalHold) ? "ON" : null);
    }

    public boolean isNone() {
        return mode == null && legalHold == null;
    }

    @Override
    public String toString() {
        return (mode == null ? "no retention" : "retention " + mode + " until " + retainUntil)
                + (legalHold == null ? "" : ", legal hold " + legalHold);
    }
}
