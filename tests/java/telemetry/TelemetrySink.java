// A broker-side client telemetry receiver for kprod's KIP-714 tests (tests/telemetry_kafka.rs).
//
// Broker settings: metric.reporters=kprod.telemetry.TelemetrySink and kprod.telemetry.file=PATH (or the
// JVM system property of the same name). Each PushTelemetry the broker accepts is appended to PATH as
// one line: client instance id, terminating (true/false), content type, and the metrics payload (the
// OTLP MetricsData protobuf, already decompressed by the broker) in base64, separated by tabs.
//
// Built by scripts/telemetry-plugin against the Kafka 4.x jars: ClientTelemetryExporterProvider is what
// Kafka 4.x brokers call (they prefer it to the deprecated ClientTelemetry).
package kprod.telemetry;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.apache.kafka.server.telemetry.ClientTelemetryContext;
import org.apache.kafka.server.telemetry.ClientTelemetryExporter;
import org.apache.kafka.server.telemetry.ClientTelemetryExporterProvider;
import org.apache.kafka.server.telemetry.ClientTelemetryPayload;

public class TelemetrySink implements MetricsReporter, ClientTelemetryExporterProvider {
    public static final String FILE_CONFIG = "kprod.telemetry.file";

    private volatile String path = System.getProperty(FILE_CONFIG);

    @Override
    public void configure(Map<String, ?> configs) {
        Object p = configs.get(FILE_CONFIG);
        if (p != null) {
            path = p.toString();
        }
    }

    @Override
    public void init(List<KafkaMetric> metrics) {}

    @Override
    public void metricChange(KafkaMetric metric) {}

    @Override
    public void metricRemoval(KafkaMetric metric) {}

    @Override
    public void close() {}

    @Override
    public ClientTelemetryExporter clientTelemetryExporter() {
        return this::export;
    }

    private synchronized void export(ClientTelemetryContext context, ClientTelemetryPayload payload) {
        if (path == null) {
            return;
        }
        ByteBuffer data = payload.data().duplicate();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        String line = payload.clientInstanceId() + "\t" + payload.isTerminating() + "\t"
            + payload.contentType() + "\t" + Base64.getEncoder().encodeToString(bytes) + "\n";
        try (FileOutputStream out = new FileOutputStream(path, true)) {
            out.write(line.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            System.err.println("TelemetrySink: cannot write " + path + ": " + e);
        }
    }
}
