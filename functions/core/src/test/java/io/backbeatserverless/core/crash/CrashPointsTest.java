package io.backbeatserverless.core.crash;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CrashPointsTest {

    @Test
    void anArmingNamesAPointAndHowManyTimesItIsPassedFirst() {
        assertThat(CrashPoints.Arming.parse("replicas-written")).isEqualTo(new CrashPoints.Arming(CrashPoints.Point.REPLICAS_WRITTEN, 1));
        assertThat(CrashPoints.Arming.parse("Part-Uploaded:3")).isEqualTo(new CrashPoints.Arming(CrashPoints.Point.PART_UPLOADED, 3));
        assertThat(CrashPoints.Arming.parse(" ")).isNull();
        assertThat(CrashPoints.Arming.parse(null)).isNull();
    }

    @Test
    void anUnknownPointIsRefusedListingThePoints() {
        assertThatThrownBy(() -> CrashPoints.Arming.parse("halfway"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'halfway'").hasMessageContaining("entries-published").hasMessageContaining("status-written");
        assertThatThrownBy(() -> CrashPoints.Arming.parse("status-written:0")).hasMessageContaining("at least 1");
    }

    @Test
    void anUnarmedProcessPassesEveryPoint() {
        for (CrashPoints.Point point : CrashPoints.Point.values()) {
            CrashPoints.reached(point); // this JVM has no BACKBEAT_CRASH_AT: it must still be running after this
        }
        assertThat(System.getenv(CrashPoints.VARIABLE)).isNull();
    }
}
