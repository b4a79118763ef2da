package io.backbeatserverless.adapters.kafka;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent.KafkaEventRecord;

import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Reads the records of a Lambda {@link KafkaEvent}: grouped by topic-partition, base64 key and value.
 * Gives them partition by partition, each in offset order, which is the order the handlers must
 * apply them in (all versions of one object share a partition).
 */
public final class KafkaEventRecords {

    private KafkaEventRecords() {
    }

    /** One record, decoded. {@code key} may be null. */
    public record Record(String topic, int partition, long offset, long timestamp, String key, byte[] value) {
        public String position() {
            return topic + "-" + partition + "@" + offset;
        }
    }

    /** The batch as one list per partition, each sorted by offset. */
    public static List<List<Record>> byPartition(KafkaEvent event) {
        List<List<Record>> partitions = new ArrayList<>();
        if (event == null || event.getRecords() == null) {
            return partitions;
        }
        for (Map.Entry<String, List<KafkaEventRecord>> group : event.getRecords().entrySet()) {
            List<Record> records = new ArrayList<>(group.getValue().size());
            for (KafkaEventRecord r : group.getValue()) {
                records.add(new Record(r.getTopic(), r.getPartition(), r.getOffset(), r.getTimestamp(),
                        r.getKey() == null ? null : new String(Base64.getDecoder().decode(r.getKey()), java.nio.charset.StandardCharsets.UTF_8),
                        r.getValue() == null ? new byte[0] : Base64.getDecoder().decode(r.getValue())));
            }
            records.sort(Comparator.comparingLong(Record::offset));
            partitions.add(records);
        }
        return partitions;
    }

    public static int count(KafkaEvent event) {
        return event == null || event.getRecords() == null ? 0
                : event.getRecords().values().stream().mapToInt(List::size).sum();
    }
}
