// Lists every metric Kafka's own Java producer registers, for checking kprod's Java-named metrics.
//
// Run as a single-file program with kafka-clients and slf4j on the class path, against a running broker:
//   java -cp kafka-clients-4.4.0.jar:slf4j-api-1.7.36.jar:slf4j-simple-1.7.36.jar \
//     tests/java/MetricsDump.java BOOTSTRAP [TOPIC] [both|idempotent|transactional] [kinds]
// scripts/java-metrics-dump does this with a cluster of its own and writes tests/java/producer-metrics-*.tsv.
//
// For each configuration asked for (both: the default idempotent producer, then a transactional one) a
// producer with client.id=kprod-metrics-dump sends 1000 records to TOPIC and flushes (the transactional one
// inside a single init/begin/commit), then every entry of producer.metrics() is collected. The output is
// the union, deduplicated and sorted, one tab-separated line per metric:
//   group  name  tags (k=v, sorted by key, comma-joined)  description
// Tag values that depend on the run are replaced: client-id by {client-id}, node-id by {node-id}, topic by
// {topic}; the values replaced are reported on standard error. Any other tag key is kept as it is and
// reported there too, so a new one is noticed.
//
// With `kinds` a fifth column says how the value is computed, for docs/metrics-java.md: the simple class
// name of the metric's Measurable (Rate, Avg, Max, CumulativeSum, CumulativeCount, Value, ...), `computed`
// for a Measurable written as a lambda or anonymous class, or `Gauge<type of the value>` for a Gauge.

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class MetricsDump {
    static final int RECORDS = 1000;
    static boolean kinds;
    static final Map<String, Set<String>> REPLACED = new TreeMap<>();
    static final Map<String, String> PLACEHOLDERS = Map.of(
        "client-id", "{client-id}", "node-id", "{node-id}", "topic", "{topic}");

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 4 || (args.length == 4 && !args[3].equals("kinds"))) {
            System.err.println("usage: MetricsDump BOOTSTRAP [TOPIC] [both|idempotent|transactional] [kinds]");
            System.exit(2);
        }
        String bootstrap = args[0];
        String topic = args.length > 1 ? args[1] : "kprod-metrics-dump";
        String mode = args.length > 2 ? args[2] : "both";
        kinds = args.length == 4;
        Set<String> lines = new TreeSet<>();
        Set<String> otherTags = new TreeSet<>();
        switch (mode) {
            case "both" -> {
                run(bootstrap, topic, false, lines, otherTags);
                run(bootstrap, topic, true, lines, otherTags);
            }
            case "idempotent" -> run(bootstrap, topic, false, lines, otherTags);
            case "transactional" -> run(bootstrap, topic, true, lines, otherTags);
            default -> {
                System.err.println("MetricsDump: unknown mode '" + mode + "'");
                System.exit(2);
            }
        }
        REPLACED.forEach((k, v) -> System.err.println("MetricsDump: replaced " + k + " values: " + v));
        for (String key : otherTags) System.err.println("MetricsDump: tag kept as is: " + key);
        StringBuilder out = new StringBuilder();
        for (String line : lines) out.append(line).append('\n');
        System.out.print(out);
        System.out.flush();
    }

    static void run(String bootstrap, String topic, boolean transactional, Set<String> lines,
                    Set<String> otherTags) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "kprod-metrics-dump");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        if (transactional) p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "kprod-metrics-dump-txn");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            if (transactional) {
                producer.initTransactions();
                producer.beginTransaction();
            }
            List<Future<RecordMetadata>> sent = new ArrayList<>(RECORDS);
            for (int i = 0; i < RECORDS; i++) {
                byte[] key = ("k" + i).getBytes();
                byte[] value = ("value " + i).getBytes();
                sent.add(producer.send(new ProducerRecord<>(topic, key, value)));
            }
            producer.flush();
            for (Future<RecordMetadata> f : sent) f.get(); // every record acknowledged, or throw
            if (transactional) producer.commitTransaction();
            for (Map.Entry<MetricName, ? extends Metric> e : producer.metrics().entrySet()) {
                String line = line(e.getKey(), otherTags);
                if (kinds) line += '\t' + kind(e.getValue());
                lines.add(line);
            }
        }
    }

    static String line(MetricName m, Set<String> otherTags) {
        TreeMap<String, String> tags = new TreeMap<>(m.tags());
        StringBuilder t = new StringBuilder();
        for (Map.Entry<String, String> tag : tags.entrySet()) {
            String value = PLACEHOLDERS.get(tag.getKey());
            if (value == null) {
                value = tag.getValue();
                otherTags.add(tag.getKey());
            } else {
                REPLACED.computeIfAbsent(tag.getKey(), k -> new TreeSet<>()).add(tag.getValue());
            }
            if (t.length() > 0) t.append(',');
            t.append(tag.getKey()).append('=').append(value);
        }
        return clean(m.group()) + '\t' + clean(m.name()) + '\t' + clean(t.toString()) + '\t'
            + clean(m.description());
    }

    static String kind(Metric metric) {
        if (metric instanceof KafkaMetric km && km.isMeasurable()) {
            Class<?> c = km.measurable().getClass();
            return c.isAnonymousClass() || c.isSynthetic() || c.getName().contains("$$Lambda")
                ? "computed" : c.getSimpleName();
        }
        Object value = metric.metricValue();
        return "Gauge<" + (value == null ? "null" : value.getClass().getSimpleName()) + ">";
    }

    /** One line per metric: tabs, newlines and runs of spaces become a single space. */
    static String clean(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s+", " ");
    }
}
