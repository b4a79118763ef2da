package io.backbeatserverless.core.entry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class MessageKeysTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "sourcebucket|key0|sourcebucket%2Fkey0",
            "b|dir/ünï cödé %+ key|b%2Fdir%2F%C3%BCn%C3%AF%20c%C3%B6d%C3%A9%20%25%2B%20key",
            "b|keep-_.!~*'()|b%2Fkeep-_.!~*'()",
            "b|a&b=c?d#e|b%2Fa%26b%3Dc%3Fd%23e",
    })
    void encodesLikeJavaScriptEncodeUriComponent(String bucket, String key, String expected) {
        assertThat(MessageKeys.forObject(bucket, key)).isEqualTo(expected);
    }

    @Test
    void allVersionsOfOneObjectShareTheKey() {
        assertThat(MessageKeys.forObject("b", "k")).isEqualTo(MessageKeys.forObject("b", "k"))
                .isNotEqualTo(MessageKeys.forObject("b", "k2"));
    }
}
