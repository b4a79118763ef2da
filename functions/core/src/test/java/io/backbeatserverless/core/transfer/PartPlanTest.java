package io.backbeatserverless.core.transfer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PartPlanTest {

    private static final long MIB = 1024L * 1024;

    @Test
    void cutsIntoSixteenMebibytePartsWithAShorterLastOne() {
        PartPlan plan = PartPlan.of(100 * MIB);
        assertThat(plan.partSize()).isEqualTo(16 * MIB);
        assertThat(plan.parts()).hasSize(7);
        assertThat(plan.parts().getLast().length()).isEqualTo(4 * MIB);
        assertThat(plan.parts().getFirst().range()).isEqualTo("bytes=0-16777215");
        assertThat(plan.parts().stream().mapToLong(PartPlan.Part::length).sum()).isEqualTo(100 * MIB);
    }

    @Test
    void doublesThePartSizeUntilAtMostAThousandParts() {
        long fiveTebibytes = 5L * 1024 * 1024 * MIB;
        PartPlan plan = PartPlan.of(fiveTebibytes);
        assertThat(plan.parts().size()).isLessThanOrEqualTo(1_000);
        assertThat(plan.partSize()).isEqualTo(8 * 1024 * MIB);
        assertThat(PartPlan.of(16_000 * MIB).parts()).hasSize(1_000);
        assertThat(PartPlan.of(16_001 * MIB).partSize()).isEqualTo(32 * MIB);
    }

    @Test
    void anEmptyObjectHasNoParts() {
        assertThat(PartPlan.of(0).parts()).isEmpty();
    }
}
