import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

// The scenario of tests/topic_id_kafka.rs with Kafka's own Java producer, for docs/compatibility.md:
// a 1-partition topic gets a record about every millisecond; after 1.5 s it is deleted, 0.5 s later
// created again (unless auto-creation was first), and production goes on for 4 s. Prints how many
// sends succeeded, failed (by exception class) or never completed, and the new topic's log end offset.
//   L=~/.cache/kprod-kafka/4.4.0/libs
//   java -cp "$L/kafka-clients-4.4.0.jar:$L/slf4j-api-1.7.36.jar" tests/java/TopicRecreate.java HOST:PORT TOPIC
public class TopicRecreate {
  public static void main(String[] a) throws Exception {
    String bootstrap = a[0], topic = a[1];
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(ap)) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
      String oldId = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId().toString();
      Properties pp = new Properties();
      pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      pp.put(ProducerConfig.LINGER_MS_CONFIG, "2");
      pp.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
      pp.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
      pp.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "200");
      AtomicLong ok = new AtomicLong(), failed = new AtomicLong();
      ConcurrentHashMap<String, AtomicLong> errors = new ConcurrentHashMap<>();
      long sent = 0, beforeDelete = 0;
      try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
        long start = System.nanoTime();
        long deleteAt = start + 1_500_000_000L, createAt = deleteAt + 500_000_000L, stopAt = createAt + 4_000_000_000L;
        boolean deleted = false, created = false;
        while (System.nanoTime() < stopAt) {
          long now = System.nanoTime();
          if (!deleted && now >= deleteAt) {
            beforeDelete = sent;
            admin.deleteTopics(List.of(topic)).all().get();
            deleted = true;
          }
          if (deleted && !created && System.nanoTime() >= createAt) {
            try {
              admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            } catch (ExecutionException e) {
              System.out.println("create: " + e.getCause().getClass().getSimpleName() + " (auto-created first)");
            }
            created = true;
          }
          p.send(new ProducerRecord<>(topic, ("r-" + sent).getBytes()), (m, e) -> {
            if (e == null) ok.incrementAndGet();
            else {
              failed.incrementAndGet();
              errors.computeIfAbsent(e.getClass().getSimpleName() + ": " + e.getMessage(), k -> new AtomicLong()).incrementAndGet();
            }
          });
          sent++;
          Thread.sleep(1);
        }
        p.flush();
      }
      String newId = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId().toString();
      TopicPartition tp = new TopicPartition(topic, 0);
      long end = admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset();
      System.out.printf("old id %s new id %s; sent %d (before the delete %d); acknowledged %d; failed %d; never completed %d; new topic's end offset %d%n",
          oldId, newId, sent, beforeDelete, ok.get(), failed.get(), sent - ok.get() - failed.get(), end);
      errors.forEach((k, v) -> System.out.println("  " + v.get() + " x " + k));
    }
  }
}
